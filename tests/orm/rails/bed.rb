# An ActiveRecord application as a test bed for `dbshift migrate` (issue 12).
#
#   ruby bed.rb fill SQLITE EXPECTED   ActiveRecord creates SQLITE (`ActiveRecord::Schema.define`,
#                                      which also makes `schema_migrations` and
#                                      `ar_internal_metadata`), fills it with edge values through
#                                      the models, deletes some rows, and writes what it reads
#                                      back (every object, every attribute, its class) and the
#                                      answers of typical queries to EXPECTED (JSON).
#   ruby bed.rb schema PG_URL          ActiveRecord creates the same schema on PostgreSQL.
#   ruby bed.rb check PG_URL EXPECTED  ActiveRecord reads every object back from PostgreSQL and
#                                      compares with EXPECTED; a new object must get a fresh id.
#
# ActiveRecord is the independent truth here: dbshift never sees this file's expectations.
# No Rails: ActiveRecord alone, as Debian packages it (ruby-activerecord, ruby-sqlite3, ruby-pg).
require "active_record"
require "bigdecimal"
require "json"

# What a Rails application sets by default: times are stored in UTC, read back as UTC.
ActiveRecord::Base.default_timezone = :utc
ActiveRecord::Migration.verbose = false

def connect(database)
  if database.start_with?("postgres")
    ActiveRecord::Base.establish_connection(database.sub(/\Apostgres(ql)?:/, "postgresql:"))
  else
    ActiveRecord::Base.establish_connection(adapter: "sqlite3", database: database)
  end
end

def postgres?
  ActiveRecord::Base.connection.adapter_name == "PostgreSQL"
end

# The application's schema. Where an application that moved to PostgreSQL would use a type
# only PostgreSQL has (uuid, timestamptz, a native enum), the schema says so, as a real
# application's migrations do after the move.
def define_schema
  pg = postgres?
  ActiveRecord::Schema.define(version: 2024_06_01_120000) do
    execute "CREATE TYPE mood AS ENUM ('happy', 'sad', 'meh')" if pg
    create_table :categories do |t|
      t.string :name, null: false
      # A self-reference.
      t.references :parent, foreign_key: { to_table: :categories }
    end
    create_table :tags do |t|
      t.string :label, null: false, index: { unique: true }
    end
    create_table :items do |t|
      t.references :category, foreign_key: true
      t.boolean :flag, null: false
      t.boolean :maybe
      t.integer :small, limit: 2, null: false
      t.integer :number, null: false
      t.bigint :big, null: false
      t.float :ratio, null: false
      t.decimal :price, precision: 12, scale: 2, null: false
      # More digits than a double holds: ActiveRecord writes it as REAL on SQLite and reads
      # back 16 significant digits.
      t.decimal :wide, precision: 20, scale: 6
      t.date :day, null: false
      t.time :clock, null: false
      t.datetime :moment, precision: 6, null: false
      if pg
        t.column :seen_at, "timestamp(6) with time zone"
        t.uuid :ident, null: false
        t.column :mood, :mood
      else
        t.datetime :seen_at, precision: 6
        t.string :ident, limit: 36, null: false
        t.string :mood
      end
      t.integer :status, null: false, default: 0
      t.json :data
      t.binary :blob
      # A name ActiveRecord quotes: the application's queries need its exact case.
      t.string "LegacyCode", null: false, default: ""
      t.timestamps precision: 6
    end
    # Decimals that reached SQLite as doubles with more digits than the scale (an import, a
    # raw UPDATE): ActiveRecord shows them rounded.
    create_table :amounts do |t|
      t.decimal :cents, precision: 10, scale: 2
      t.decimal :fine, precision: 30, scale: 20
      t.decimal :plain
    end
    # has_and_belongs_to_many's join table: no id of its own.
    create_table :items_tags, id: false do |t|
      t.references :item, null: false, foreign_key: true
      t.references :tag, null: false, foreign_key: true
    end
    # A reserved word as the table name.
    create_table :order do |t|
      t.references :item, null: false, foreign_key: true
      t.integer :quantity, null: false
      t.text :note
    end
  end
end

class Category < ActiveRecord::Base
  belongs_to :parent, class_name: "Category", optional: true
  has_many :children, class_name: "Category", foreign_key: :parent_id
  has_many :items
end

class Tag < ActiveRecord::Base
  has_and_belongs_to_many :items
end

class Item < ActiveRecord::Base
  belongs_to :category, optional: true
  has_and_belongs_to_many :tags, -> { order(:id) }
  has_many :orders
  enum status: { draft: 0, live: 1, archived: 2 }
end

class Amount < ActiveRecord::Base
end

class Order < ActiveRecord::Base
  self.table_name = "order"
  belongs_to :item
end

MODELS = [Category, Tag, Item, Order, Amount].freeze

def fill
  root = Category.create!(name: "root")
  child = Category.create!(name: "child", parent: root)
  Category.create!(name: "grandchild", parent: child)
  gone = Category.create!(name: "deleted later")
  tags = (0...5).map { |i| Tag.create!(label: "tag#{i}") }
  floats = [0.1 + 0.2, 1 / 3.0, 1e308, -2.2250738585072014e-308, 123456789.12345679, 5e-324, 0.0]
  decimals = %w[0.01 -9999999999.99 1234567890.12 0.00 42.00 -0.50 7.10]
  # 17 significant digits: the double keeps 17, ActiveRecord reads 16 back.
  wides = ["12345678901234.123456", "-0.000001", nil, "99999999.999999", "0.1", "1e-6", "-31415926535897.932384"]
  bounds = [[-32768, -2**31, -2**63], [32767, 2**31 - 1, 2**63 - 1], [0, 0, 0], [1, -1, 2**53 + 1],
            [-1, 1, -(2**53) - 1], [100, 100000, 10**18], [7, 7, 7]]
  days = [Date.new(1, 1, 1), Date.new(9999, 12, 31), Date.new(2000, 2, 29), Date.new(1970, 1, 1),
          Date.new(1969, 12, 31), Date.new(2024, 1, 1), Date.new(1900, 3, 1)]
  clocks = ["00:00:00", "23:59:59.999999", "12:30:00", "01:02:03.000004", "13:00:00.1", "06:00", "18:45:01"]
  moments = [Time.utc(2024, 3, 31, 2, 30, 0, 999999), Time.utc(1970, 1, 1), Time.utc(1901, 12, 13, 20, 45, 52, 123456),
             Time.utc(2099, 12, 31, 23, 59, 59, 999999), Time.utc(2000, 2, 29, 12, 0, 0, 500000),
             Time.utc(1, 1, 1, 0, 0, 0, 1), Time.utc(9999, 12, 31, 23, 59, 59, 999999)]
  # Given in other zones: ActiveRecord stores them in UTC.
  seen = [Time.new(2024, 3, 31, 4, 30, 0, "+02:00"), nil, Time.new(1999, 12, 31, 23, 59, 59.5r, "-08:00"),
          Time.utc(2038, 1, 19, 3, 14, 8), Time.new(2000, 1, 1, 0, 0, 0, "+14:00"), nil,
          Time.new(2024, 10, 27, 2, 30, 0.000001r, "+01:00")]
  idents = ["00000000-0000-0000-0000-000000000001", "ffffffff-ffff-ffff-ffff-ffffffffffff",
            "9e3779b9-7f4a-7c15-f39c-c0605cedc835", "3c6ef372-fe94-f82b-e739-80c0b9db906a",
            "daa66d2c-7ddf-743f-db96-4120b6ca5810", "78dde6e5-fd29-f05b-cf32-c181b37921d6",
            "1715609f-7c74-6c78-c2cf-0241d0bb0a42"]
  jsons = [{ "a" => [1, 2.5, nil], "b" => { "c" => "é ☃" } }, :json_null, nil, "just a string",
           [0.30000000000000004, 1e-7, 12345678901234567890], { "nested" => { "deep" => [true, false, {}] } }, 0]
  blobs = [(0..255).to_a.pack("C*"), "".b, nil, "\x00".b, "\xff\xfe".b, "text".b, ("\x00" * 10).b]
  items = (0...7).map do |i|
    item = Item.create!(
      category: [root, child, nil, gone, child, root, nil][i],
      flag: i.even?, maybe: [true, false, nil][i % 3],
      small: bounds[i][0], number: bounds[i][1], big: bounds[i][2], ratio: floats[i],
      price: BigDecimal(decimals[i]), wide: wides[i] && BigDecimal(wides[i]), day: days[i], clock: clocks[i], moment: moments[i],
      seen_at: seen[i], ident: idents[i], mood: ["happy", "sad", nil, "meh", "happy", "sad", "meh"][i],
      status: %w[draft live archived live draft archived live][i],
      data: jsons[i] == :json_null ? nil : jsons[i], blob: blobs[i],
      LegacyCode: ["Mixed", "", "CASE", "x", "ß", "a'b", "tab\there"][i],
      tags: tags.first(i % 5)
    )
    # JSON null, as opposed to SQL NULL: ActiveRecord writes nil as SQL NULL, so an
    # application that has a JSON null wrote it by hand.
    Item.where(id: item.id).update_all("data = 'null'") if jsons[i] == :json_null
    Order.create!(item: item, quantity: i * 3, note: i.odd? ? "note #{i}" : nil)
    item
  end
  doubles = [0.1 + 0.2, 1.005, -1.005, 2.675, 1 / 3.0, 2 / 3.0, 123.456789, 1e-7, -0.001, 12345678.905,
             0.125, 99999999.994999, 5e-324, 1234567.8949999999, 0.0]
  doubles.each do |x|
    Amount.connection.execute("INSERT INTO amounts (cents, fine, plain) VALUES (#{x.to_s}, #{x.to_s}, #{x.to_s})")
  end
  # Deletions: gaps in ids, the last ids among them (sqlite_sequence stays ahead of max(id)).
  [items[4], items[6]].each do |item|
    item.orders.destroy_all
    item.tags = []
    item.destroy!
  end
  Item.where(category: gone).update_all(category_id: nil)
  gone.destroy!
  tags[4].destroy!
end

def canonical(value)
  case value
  when nil then nil
  when true, false then ["bool", value.to_s]
  when Integer then ["int", value.to_s]
  when Float then ["float", value.to_s]
  # PostgreSQL's numeric has no negative zero; BigDecimal("-0") == 0.
  when BigDecimal then ["decimal", value.zero? ? "0.0" : value.to_s("F")]
  when Date then ["date", value.iso8601]
  when Time, ActiveSupport::TimeWithZone
    ["time", value.utc.strftime("%Y-%m-%d %H:%M:%S.%6N"), value.utc_offset.to_s]
  when Hash, Array then [value.class.name, JSON.generate(sort_keys(value))]
  when String
    value.encoding == Encoding::BINARY ? ["bytes", value.unpack1("H*")] : ["str", value]
  else [value.class.name, value.to_s]
  end
end

def sort_keys(value)
  case value
  when Hash then value.keys.sort.to_h { |k| [k, sort_keys(value[k])] }
  when Array then value.map { |v| sort_keys(v) }
  else value
  end
end

def snapshot
  objects = MODELS.to_h do |model|
    rows = model.order(:id).map do |obj|
      row = model.column_names.to_h { |c| [c, canonical(obj.public_send(:[], c))] }
      # The time of day of a `time` column: ActiveRecord puts it on 2000-01-01.
      row["clock"] = ["time-of-day", obj.clock.strftime("%H:%M:%S.%6N")] if model == Item
      row["status"] = ["enum", obj.status] if model == Item
      # JSON null and SQL NULL both read as nil: the raw value tells them apart.
      row["data_is_sql_null"] = obj.data_before_type_cast.nil? if model == Item
      row["tags"] = obj.tags.map(&:id) if model == Item
      row["children"] = obj.children.order(:id).map(&:id) if model == Category
      row
    end
    [model.name, rows]
  end
  ids = ->(relation) { relation.order(:id).pluck(:id) }
  queries = {
    "flag true" => ids.(Item.where(flag: true)),
    "maybe null" => ids.(Item.where(maybe: nil)),
    "maybe false" => ids.(Item.where(maybe: false)),
    "big > 2^53" => ids.(Item.where("big > ?", 2**53)),
    "number at its bound" => ids.(Item.where(number: 2**31 - 1)),
    "ratio < 0.5" => ids.(Item.where("ratio < ?", 0.5)),
    "price >= 1" => ids.(Item.where("price >= ?", BigDecimal("1"))),
    "day range" => ids.(Item.where(day: Date.new(1950, 1, 1)..Date.new(2050, 1, 1))),
    "clock after noon" => ids.(Item.where("clock >= ?", Time.utc(2000, 1, 1, 12))),
    "moment after 2000" => ids.(Item.where("moment > ?", Time.utc(2000, 1, 1))),
    "seen in 2024" => ids.(Item.where(seen_at: Time.utc(2024, 1, 1)...Time.utc(2025, 1, 1))),
    "ident" => ids.(Item.where(ident: "00000000-0000-0000-0000-000000000001")),
    "status live" => ids.(Item.live),
    "mood sad" => ids.(Item.where(mood: "sad")),
    "sql null data" => ids.(Item.where(data: nil)),
    "legacy" => ids.(Item.where(LegacyCode: "Mixed")),
    "children of root" => Category.joins(:parent).where(parents_categories: { name: "root" }).order(:name).pluck(:name),
    "order by ratio" => Item.order(:ratio, :id).pluck(:id),
    "orders of flagged items" => Order.joins(:item).where(items: { flag: true }).order(:id).pluck(:id),
    "price sum" => Item.sum(:price).to_s("F"),
    "big max" => Item.maximum(:big).to_s,
    "items per tag" => Tag.left_joins(:items).group(:label).order(:label).count("items.id").to_a,
    "items per status" => Item.group(:status).order(:status).count.to_a,
  }
  { "objects" => objects, "queries" => queries }
end

def differences(expected, actual, path = "")
  if expected.is_a?(Hash) && actual.is_a?(Hash)
    (expected.keys | actual.keys).sort.flat_map { |k| differences(expected[k], actual[k], "#{path}.#{k}") }
  elsif expected.is_a?(Array) && actual.is_a?(Array) && expected.size == actual.size && expected.all?(Hash)
    expected.zip(actual).each_with_index.flat_map { |(e, a), i| differences(e, a, "#{path}[#{i}]") }
  else
    expected == actual ? [] : ["#{path}: expected #{expected.inspect}, got #{actual.inspect}"]
  end
end

# A new object's id must be past the ids SQLite handed out (`sqlite_sequence`), not only past
# max(id): the last ids were deleted, and must not be given again.
def fresh_ids(sequences)
  problems = []
  ActiveRecord::Base.transaction do
    [[Category, -> { Category.create!(name: "new") }], [Tag, -> { Tag.create!(label: "new") }],
     [Item, -> { Item.create!(flag: true, small: 0, number: 0, big: 0, ratio: 0, price: 0, day: Date.today,
                              clock: "00:00", moment: Time.now, ident: "00000000-0000-0000-0000-0000000000aa") }]].each do |model, make|
      top = [model.maximum(:id), sequences.fetch(model.table_name)].max
      created = make.call
      problems << "new #{model.name} got id #{created.id}, not past #{top}" if created.id <= top
    end
    raise ActiveRecord::Rollback
  end
  problems
end

command, database, expected_path = ARGV
connect(database)
case command
when "fill"
  define_schema
  fill
  data = snapshot
  data["sequences"] = ActiveRecord::Base.connection.select_rows("SELECT name, seq FROM sqlite_sequence").to_h
  File.write(expected_path, JSON.pretty_generate(data))
  puts "#{data["objects"].values.sum(&:size)} objects"
when "schema"
  define_schema
when "check"
  expected = JSON.parse(File.read(expected_path))
  sequences = expected.delete("sequences")
  actual = JSON.parse(JSON.generate(snapshot))
  problems = differences(expected, actual) + fresh_ids(sequences)
  problems.each { |p| puts p }
  puts "#{problems.size} differences"
  exit(problems.empty? ? 0 : 1)
else
  abort "unknown command #{command}"
end
