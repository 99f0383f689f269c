"""A Peewee application as a test bed for `dbshift migrate --data-only` (issue 12).

    bed.py fill SQLITE EXPECTED   Peewee creates SQLITE (`create_tables`), fills it with edge
                                  values through its models, deletes some rows, and writes what
                                  it reads back (every object, every field, its type), the
                                  answers of typical queries, and the values this bed knows
                                  PostgreSQL cannot hold as Peewee created its columns there
                                  ("unfaithful": table, key, column) to EXPECTED (JSON).
    bed.py schema PG_URL          Peewee creates its schema on PostgreSQL (`create_tables`).
    bed.py check PG_URL EXPECTED REJECTS
                                  Peewee reads every object back from PostgreSQL and compares
                                  with EXPECTED; the rows holding an unfaithful value must be
                                  absent, and the reject files in directory REJECTS must name
                                  exactly those rows and columns; a new object must get a fresh
                                  id.

Peewee is the independent truth here: dbshift never sees this file's expectations. Where this
file says how Peewee stores a field, it is reading peewee.py (`FIELD`, `SqliteDatabase` and
`PostgresqlDatabase.field_types`, each field's `db_value`/`python_value`).
"""
import datetime
import decimal
import enum
import glob
import json
import os
import sys
import uuid
from urllib.parse import unquote, urlparse

import peewee

if int(peewee.__version__.split(".")[0]) < 4:
    # Peewee 3 has no JSONField for both databases: say so as a missing package would.
    raise ModuleNotFoundError(f"this bed needs peewee>=4, found {peewee.__version__}")

from peewee import (  # noqa: E402
    BigAutoField, BigBitField, BigIntegerField, BinaryUUIDField, BitField, BlobField,
    BooleanField, CharField, DatabaseProxy, DateField, DateTimeField, DecimalField,
    DoubleField, FixedCharField, FloatField, ForeignKeyField, IntegerField, IPField,
    JSONField, ManyToManyField, Model, PostgresqlDatabase, SmallIntegerField, SqliteDatabase,
    TextField, TimeField, TimestampField, UUIDField, fn,
)
from playhouse.fields import CompressedField, EnumField  # noqa: E402

db = DatabaseProxy()


class Color(enum.Enum):
    # playhouse.fields.EnumField stores the values, not the names.
    RED = "r"
    GREEN = "g"
    BLUE = "b"


class Base(Model):
    class Meta:
        database = db


class Category(Base):
    name = CharField(max_length=50)
    parent = ForeignKeyField("self", null=True, backref="children")


class Tag(Base):
    label = CharField(max_length=30, unique=True)


class Item(Base):
    category = ForeignKeyField(Category, null=True, backref="items")
    tags = ManyToManyField(Tag, backref="items")
    flag = BooleanField()  # INTEGER 0/1 on SQLite, BOOLEAN on PostgreSQL
    maybe = BooleanField(null=True)
    small = SmallIntegerField()  # INTEGER on SQLite, SMALLINT on PostgreSQL
    number = IntegerField()
    big = BigIntegerField()  # INTEGER on SQLite, BIGINT on PostgreSQL
    ratio = DoubleField()  # REAL on SQLite, DOUBLE PRECISION on PostgreSQL
    approx = FloatField(null=True)  # REAL on both: a double on SQLite, a float4 on PostgreSQL
    price = DecimalField(max_digits=12, decimal_places=2)  # NUMERIC affinity on SQLite
    wide = DecimalField(max_digits=20, decimal_places=6, null=True)
    day = DateField()  # str(date) on SQLite
    clock = TimeField()  # str(time) on SQLite
    moment = DateTimeField()  # str(datetime) on SQLite, TIMESTAMP (no zone) on PostgreSQL
    ident = UUIDField()  # 32 hex digits (TEXT) on SQLite, UUID on PostgreSQL
    raw_ident = BinaryUUIDField(null=True)  # 16 bytes: BLOB / BYTEA
    address = IPField(null=True)  # an IPv4 address as an unsigned 32-bit integer
    stamp = TimestampField(resolution=6, utc=True, null=True, default=None)  # microseconds
    stamp_s = TimestampField(utc=True, null=True, default=None)  # seconds
    flags = BitField(default=0)
    bits = BigBitField()
    data = JSONField(null=True)  # json() text on SQLite, JSONB on PostgreSQL
    blob = BlobField(null=True)
    packed = CompressedField(null=True)  # zlib in a BLOB
    code = FixedCharField(max_length=4)  # CHAR(4): Peewee strips what it reads
    note = TextField(default="")
    color = EnumField(Color, max_length=1)
    # A name Peewee quotes: the application's queries need its exact case.
    legacy = CharField(max_length=20, column_name="LegacyCode", default="")


EVEN = Item.flags.flag(1)
STARRED = Item.flags.flag(4)
ItemTag = Item.tags.get_through_model()


class Order(Base):
    # A reserved word as the table name, and a 64-bit key.
    id = BigAutoField()
    item = ForeignKeyField(Item, backref="orders", on_delete="CASCADE")
    placed = DateTimeField()
    amount = DecimalField(max_digits=20, decimal_places=6)


class Oddity(Base):
    """Values Peewee writes on SQLite that the columns it creates on PostgreSQL cannot hold as
    they are: each row holds one (the others NULL), and dbshift must reject that row naming
    that column rather than change the value."""
    short = CharField(max_length=5, null=True)  # VARCHAR(5): SQLite ignores the length
    small = SmallIntegerField(null=True)
    number = IntegerField(null=True)
    note = TextField(null=True)
    data = JSONField(null=True)
    moment = DateTimeField(null=True)
    approx = FloatField(null=True)
    price = DecimalField(max_digits=12, decimal_places=2, null=True)
    wide = DecimalField(max_digits=20, decimal_places=6, null=True)
    clock = TimeField(null=True)


MODELS = [Category, Tag, Item, ItemTag, Order, Oddity]

PARIS_SUMMER = datetime.timezone(datetime.timedelta(hours=2))

# (column, value, why PostgreSQL cannot hold it as Peewee created the column there).
ODDITIES = [
    ("short", "abcdefgh", "8 characters in VARCHAR(5)"),
    ("small", 40000, "over SMALLINT"),
    ("number", 2**40, "over INTEGER"),
    ("note", "nul\x00inside", "NUL in text"),
    ("data", {"k": "nul\x00inside"}, "NUL in jsonb"),
    # An aware datetime is written with its offset (`datetime.isoformat(' ')`) and read back
    # aware on SQLite; PostgreSQL's TIMESTAMP keeps no offset.
    ("moment", datetime.datetime(2024, 7, 1, 12, 0, tzinfo=PARIS_SUMMER), "offset in TIMESTAMP"),
    # DateTimeField.db_value passes a string through; python_value gives it back unparsed.
    ("moment", "not a date", "text in TIMESTAMP"),
    ("approx", 1 / 3, "a double that float4 reads back as another"),
    ("approx", 16777217.0, "2^24 + 1 has no float4"),
    ("approx", 1e300, "over float4"),
    # Exact in a float4, but PostgreSQL prints it as 3.4028235e+38, which Python reads as
    # another double.
    ("approx", 3.4028234663852886e38, "the largest float4 reads back as another double"),
    # SQLite's NUMERIC affinity makes it the integer 100000000000000: 21 digits at scale 6.
    ("wide", decimal.Decimal("99999999999999.999999"), "rounded by SQLite past numeric(20,6)"),
    ("price", decimal.Decimal("0.125"), "more places than numeric(12,2)"),
    ("clock", datetime.time(12, 30, tzinfo=PARIS_SUMMER), "offset in TIME"),
]


def database(url):
    if url.startswith("postgres"):
        parsed = urlparse(url)
        query = dict(p.split("=", 1) for p in parsed.query.split("&") if "=" in p)
        return PostgresqlDatabase(
            parsed.path.lstrip("/"),
            user=unquote(parsed.username or "") or None,
            password=unquote(parsed.password or "") or None,
            host=unquote(parsed.hostname or query.get("host", "")) or None,
            port=parsed.port or query.get("port") or None,
        )
    return SqliteDatabase(url)


def fill():
    root = Category.create(name="root")
    child = Category.create(name="child", parent=root)
    Category.create(name="grandchild", parent=child)
    gone = Category.create(name="deleted later")
    tags = [Tag.create(label=label) for label in ["tag0", "tag1", "é ☃", "tag3", "tag4"]]
    floats = [0.1 + 0.2, 1 / 3, 1e308, -2.2250738585072014e-308, 123456789.12345679, 5e-324, 0.0]
    # Doubles whose float4 PostgreSQL prints as the same shortest text: psycopg2 reads a
    # float4 as `float(text)`, so Peewee reads each back as the double it wrote.
    approx = [0.1, -2.5, None, 2.5e38, 1e-45, 16777216.0, -0.0]
    prices = ["0.01", "-9999999999.99", "1234567890.12", "0.00", "42.00", "-0.50", "7.10"]
    wides = ["12345678901234.123456", "0.000001", None, "-99999999999999", "1e-6", "3.5", "0"]
    idents = [uuid.UUID(int=1), uuid.UUID(int=(1 << 128) - 1)] + [
        uuid.UUID(int=(i * 0x9E3779B97F4A7C15F39CC0605CEDC835) % (1 << 128)) for i in range(1, 6)
    ]
    moments = [
        datetime.datetime(2024, 3, 31, 2, 30, 0, 999999),  # no such time in Paris: naive
        datetime.datetime(1970, 1, 1),
        datetime.datetime(1901, 12, 13, 20, 45, 52, 123456),
        datetime.datetime(2099, 12, 31, 23, 59, 59, 999999),
        "2000-02-29",  # a string: Peewee stores it as given and parses it on reading
        datetime.datetime(1, 1, 1, 0, 0, 0, 1),
        datetime.datetime(9999, 12, 31, 23, 59, 59, 999999),
    ]
    days = [datetime.date(1, 1, 1), datetime.date(9999, 12, 31), datetime.date(2000, 2, 29),
            datetime.date(1970, 1, 1), datetime.date(1969, 12, 31), datetime.date(2024, 1, 1),
            datetime.date(1900, 3, 1)]
    clocks = [datetime.time(0, 0), datetime.time(23, 59, 59, 999999), datetime.time(12, 30),
              datetime.time(1, 2, 3, 4), datetime.time(13, 0, 0, 100000), datetime.time(6, 0),
              datetime.time(18, 45, 1)]
    jsons = [
        {"a": [1, 2.5, None], "b": {"c": "é ☃"}, "kind": "x"},
        None,  # SQL NULL (Peewee writes None as NULL)
        "just a string",
        [0.30000000000000004, 1e-7, 12345678901234567890, 1.5],
        {"nested": {"deep": [True, False, {}]}, "kind": "y"},
        0,
        {"": "", "kind": "x", "z": 1.5},
    ]
    blobs = [bytes(range(256)), b"", None, b"\x00", b"\xff\xfe", b"text", b"\x00" * 10]
    addresses = ["0.0.0.0", "255.255.255.255", None, "10.0.0.1", "192.168.1.254", "127.0.0.1",
                 "1.2.3.4"]
    stamps = [datetime.datetime(1970, 1, 1), datetime.datetime(2038, 1, 19, 3, 14, 8, 1),
              None, datetime.datetime(1969, 12, 31, 23, 59, 59, 500000),
              datetime.datetime(2024, 2, 29, 12, 0, 0, 123456), datetime.datetime(3000, 1, 1),
              datetime.datetime(2001, 9, 9, 1, 46, 40)]
    colors = [Color.RED, Color.GREEN, Color.BLUE, Color.RED, Color.BLUE, Color.GREEN, Color.RED]
    bounds = [(-32768, -2**31, -2**63), (32767, 2**31 - 1, 2**63 - 1), (0, 0, 0),
              (1, -1, 2**53 + 1), (-1, 1, -(2**53) - 1), (100, 100000, 10**18), (7, 7, 7)]
    items = []
    for i in range(7):
        item = Item.create(
            category=[root, child, None, gone, child, root, None][i],
            flag=i % 2 == 0, maybe=[True, False, None][i % 3],
            small=bounds[i][0], number=bounds[i][1], big=bounds[i][2], ratio=floats[i],
            approx=approx[i], price=decimal.Decimal(prices[i]),
            wide=None if wides[i] is None else decimal.Decimal(wides[i]),
            day=days[i], clock=clocks[i], moment=moments[i], ident=idents[i],
            raw_ident=None if i == 2 else idents[6 - i], address=addresses[i],
            stamp=stamps[i], stamp_s=stamps[i] and stamps[i].replace(microsecond=0),
            data=jsons[i], blob=blobs[i], packed=None if i == 3 else b"compress me " * i,
            code=["ab", "", "wxyz", " pad", "ß", "a'b", "x"][i],
            note=["", "line\nbreak", "tab\there", "🎉", "x" * 300, "back\\slash", "NULL"][i],
            color=colors[i], legacy=["Mixed", "", "CASE", "x", "ß", "a'b", "tab\there"][i],
        )
        item.flags = 0
        if i % 2 == 0:
            item.flags |= 1
        if i % 3 == 0:
            item.flags |= 4
        for bit in range(0, 80, i + 3):
            item.bits.set_bit(bit)
        item.save()
        item.tags.add(tags[: i % 5])
        Order.create(item=item, placed=moments[i] if i != 4 else datetime.datetime(2000, 1, 1),
                     amount=decimal.Decimal(i) / 4)
        items.append(item)
    # Deletions: gaps in ids, the last ids among them.
    for item in (items[2], items[6]):
        item.tags.clear()
        Order.delete().where(Order.item == item).execute()
        item.delete_instance()
    Item.update(category=None).where(Item.category == gone).execute()
    gone.delete_instance()
    tags[4].delete_instance()
    unfaithful = []
    for column, value, why in ODDITIES:
        odd = Oddity.create(**{column: value})
        unfaithful.append({"table": "oddity", "key": {"id": odd.id}, "column": column,
                           "why": why})
    Oddity.create(short="ok")  # one faithful row among them
    return unfaithful


def canonical(value):
    """A value as (type name, text): what the application would see."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        # psycopg2 gives a BYTEA as a memoryview, sqlite3 a BLOB as bytes.
        return ["bytes", bytes(value).hex()]
    if isinstance(value, float):
        return ["float", repr(value)]
    if isinstance(value, decimal.Decimal):
        # Peewee reads SQLite's NUMERIC storage without a scale (`DecimalField.python_value`
        # is `Decimal(str(value))` of an INTEGER or REAL), PostgreSQL's numeric(p, s) with
        # it: the number is what must be equal.
        return ["Decimal", format(value.normalize(), "f")]
    if isinstance(value, (datetime.datetime, datetime.time)):
        return [type(value).__name__, value.isoformat(), "aware" if value.tzinfo else "naive"]
    if isinstance(value, (dict, list)):
        return [type(value).__name__, json.dumps(value, sort_keys=True)]
    if isinstance(value, enum.Enum):
        return [type(value).__name__, value.name]
    if isinstance(value, Model):
        return ["id", value.id]
    return [type(value).__name__, str(value)]


def row_of(obj):
    row = {}
    for name, field in obj._meta.fields.items():
        if isinstance(field, ForeignKeyField):
            row[name] = canonical(getattr(obj, field.object_id_name))
        elif isinstance(field, BigBitField):
            row[name] = canonical(bytes(getattr(obj, name)._buffer))
        else:
            row[name] = canonical(getattr(obj, name))
    return row


def ids(query):
    return [canonical(row[0]) for row in query.tuples()]


def snapshot():
    objects = {}
    for model in MODELS:
        rows = []
        for obj in model.select().order_by(*model._meta.sorted_fields[:2]):
            row = row_of(obj)
            if model is Item:
                row["tags"] = [t.id for t in obj.tags.order_by(Tag.id)]
            rows.append(row)
        objects[model.__name__] = rows
    I = Item
    q = {
        "flag true": I.select(I.id).where(I.flag == True).order_by(I.id),  # noqa: E712
        "maybe null": I.select(I.id).where(I.maybe.is_null()).order_by(I.id),
        "big > 2^53": I.select(I.id).where(I.big > 2**53).order_by(I.id),
        "ratio < 0.5": I.select(I.id).where(I.ratio < 0.5).order_by(I.id),
        # Not `approx == 0.1`: PostgreSQL compares the float4 0.1 widened to a double with the
        # double 0.1 and finds nothing, whoever wrote the row (Peewee's schema, not the copy).
        "approx < 0": I.select(I.id).where(I.approx < 0).order_by(I.id),
        "day range": I.select(I.id).where(I.day.between(datetime.date(1950, 1, 1), datetime.date(2050, 1, 1))).order_by(I.id),
        "clock after noon": I.select(I.id).where(I.clock >= datetime.time(12, 0)).order_by(I.id),
        "moment after 2000": I.select(I.id).where(I.moment > datetime.datetime(2000, 1, 1)).order_by(I.id),
        "ident": I.select(I.id).where(I.ident == uuid.UUID(int=1)),
        "raw ident": I.select(I.id).where(I.raw_ident == uuid.UUID(int=(1 << 128) - 1)),
        "address": I.select(I.id).where(I.address == "10.0.0.1"),
        "stamp after 2000": I.select(I.id).where(I.stamp > datetime.datetime(2000, 1, 1)).order_by(I.id),
        "even flag": I.select(I.id).where(EVEN).order_by(I.id),
        "starred flag": I.select(I.id).where(STARRED).order_by(I.id),
        "json kind": I.select(I.id).where(I.data["kind"] == "x").order_by(I.id),
        "json null": I.select(I.id).where(I.data.is_null()).order_by(I.id),
        "color": I.select(I.id).where(I.color == Color.BLUE).order_by(I.id),
        "legacy": I.select(I.id).where(I.legacy == "Mixed"),
        "code": I.select(I.id).where(I.code == "ab"),
        "children of root": Category.select(Category.name).join(
            Category.alias("p"), on=(Category.parent == Category.alias("p").id)).order_by(Category.name),
        "order by ratio": I.select(I.id).order_by(I.ratio, I.id),
        "orders join": Order.select(Order.id).join(I).where(I.flag == True).order_by(Order.id),  # noqa: E712
        "items per tag": Tag.select(Tag.label, fn.COUNT(ItemTag.id)).join(
            ItemTag, on=(ItemTag.tag == Tag.id), join_type="LEFT OUTER JOIN"
        ).group_by(Tag.label).order_by(Tag.label),
    }
    queries = {name: [[canonical(v) for v in row] for row in query.tuples()]
               for name, query in q.items()}
    # EXTRACT gives an integer on SQLite and a numeric on PostgreSQL 14+: the database's
    # function, not the stored value, so the year is compared as a number.
    queries["moment year"] = [int(y) for (y,) in I.select(I.moment.year).order_by(I.id).tuples()]
    # SQLite sums NUMERIC storage as a REAL, PostgreSQL as a numeric: the driver's type.
    total = Order.select(fn.SUM(Order.amount)).scalar()
    queries["amount sum"] = str(decimal.Decimal(str(total)).quantize(decimal.Decimal("0.01")))
    return {"objects": objects, "queries": queries}


def differences(expected, actual, path=""):
    if isinstance(expected, dict) and isinstance(actual, dict):
        out = []
        for key in sorted(set(expected) | set(actual)):
            out += differences(expected.get(key), actual.get(key), f"{path}.{key}")
        return out
    if isinstance(expected, list) and isinstance(actual, list) and len(expected) == len(actual) \
            and all(isinstance(e, dict) for e in expected):
        out = []
        for i, (e, a) in enumerate(zip(expected, actual)):
            out += differences(e, a, f"{path}[{i}]")
        return out
    return [] if expected == actual else [f"{path}: expected {expected!r}, got {actual!r}"]


def fresh_ids():
    problems = []
    with db.atomic() as txn:
        for model, make in ((Category, lambda: Category.create(name="new")),
                            (Tag, lambda: Tag.create(label="new")),
                            (Order, lambda: Order.create(item=Item.select().first(),
                                                         placed=datetime.datetime(2020, 1, 1),
                                                         amount=1))):
            top = model.select(fn.MAX(model.id)).scalar()
            new = make()
            if new.id <= top:
                problems.append(f"new {model.__name__} got id {new.id}, not past {top}")
        txn.rollback()
    return problems


def rejects_named(directory):
    """(table, key, column) of every line of the reject files in `directory`."""
    found = []
    for path in sorted(glob.glob(os.path.join(directory, "*.rejects.jsonl"))):
        with open(path) as f:
            for line in f:
                record = json.loads(line)
                key = record["key"]
                # Peewee's `id INTEGER NOT NULL PRIMARY KEY` is SQLite's rowid: dbshift names
                # the key as such.
                if list(key) == ["rowid"]:
                    key = {"id": key["rowid"]}
                found.append({"table": record["table"], "key": key,
                              "column": record["column"], "action": record["action"]})
    return found


def check(expected, reject_dir):
    unfaithful = expected.pop("unfaithful")
    gone = {u["key"]["id"] for u in unfaithful}
    # The rows holding a value PostgreSQL cannot keep are rejected, not copied changed.
    expected["objects"]["Oddity"] = [r for r in expected["objects"]["Oddity"]
                                     if r["id"][1] not in [str(i) for i in gone]]
    actual = json.loads(json.dumps(snapshot(), sort_keys=True))
    problems = differences(expected, actual) + fresh_ids()
    want = sorted((u["table"], json.dumps(u["key"]), u["column"], "rejected") for u in unfaithful)
    got = sorted((r["table"], json.dumps(r["key"]), r["column"], r["action"])
                 for r in rejects_named(reject_dir))
    for missing in sorted(set(want) - set(got)):
        problems.append(f"not in the reject files: {missing}")
    for extra in sorted(set(got) - set(want)):
        problems.append(f"rejected but faithful: {extra}")
    return problems


def main():
    command, url = sys.argv[1], sys.argv[2]
    db.initialize(database(url))
    db.connect()
    if command == "fill":
        db.create_tables(MODELS)
        with db.atomic():
            unfaithful = fill()
        data = snapshot()
        data["unfaithful"] = unfaithful
        with open(sys.argv[3], "w") as f:
            json.dump(data, f, indent=1, sort_keys=True)
        print(f"{sum(len(v) for v in data['objects'].values())} objects")
    elif command == "schema":
        db.create_tables(MODELS)
    elif command == "check":
        with open(sys.argv[3]) as f:
            expected = json.load(f)
        problems = check(expected, sys.argv[4])
        for p in problems:
            print(p)
        print(f"{len(problems)} differences")
        sys.exit(1 if problems else 0)
    else:
        sys.exit(f"unknown command {command}")


if __name__ == "__main__":
    main()
