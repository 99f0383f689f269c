"""A SQLAlchemy application as a test bed for `dbshift migrate --data-only` (issue 12).

    bed.py fill SQLITE EXPECTED   SQLAlchemy creates SQLITE (`create_all`), fills it with edge
                                  values through the ORM, deletes some rows, and writes what it
                                  reads back (every object, every attribute, its type) and the
                                  answers of typical queries to EXPECTED (JSON).
    bed.py schema PG_URL          SQLAlchemy creates its schema on PostgreSQL (`create_all`).
    bed.py check PG_URL EXPECTED  SQLAlchemy reads every object back from PostgreSQL and
                                  compares with EXPECTED; a new object must get a fresh id.
        [--ignore F,G]            Leaves attributes F and G out: a schema not made by
                                  SQLAlchemy (dbshift's full mode) keeps a column whose SQLite
                                  declaration SQLAlchemy shares with another type (Interval and
                                  DateTime are both `DATETIME`) as the date/times it holds; the
                                  caller checks those values another way.

SQLAlchemy is the independent truth here: dbshift never sees this file's expectations.
"""
import datetime
import decimal
import enum
import json
import sys
import uuid

from sqlalchemy import (
    JSON, BigInteger, Boolean, Column, Date, DateTime, Double, Enum, ForeignKey, Integer,
    Interval, LargeBinary, Numeric, SmallInteger, String, Table, Time, Uuid, create_engine,
    func, null, select,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Color(enum.Enum):
    # Names differ from values: SQLAlchemy stores the names.
    RED = "r"
    GREEN = "g"
    BLUE = "b"


item_tags = Table(
    "item_tags",
    Base.metadata,
    Column("item_id", ForeignKey("item.id"), primary_key=True),
    Column("tag_id", ForeignKey("tag.id"), primary_key=True),
)


class Category(Base):
    __tablename__ = "category"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    parent_id = mapped_column(ForeignKey("category.id"), nullable=True)
    parent = relationship("Category", remote_side=[id])


class Tag(Base):
    __tablename__ = "tag"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    label: Mapped[str] = mapped_column(String(30), unique=True)


class Item(Base):
    __tablename__ = "item"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    category_id = mapped_column(ForeignKey("category.id"), nullable=True)
    tags = relationship(Tag, secondary=item_tags, order_by=Tag.id)
    flag = mapped_column(Boolean, nullable=False)
    maybe = mapped_column(Boolean, nullable=True)
    small = mapped_column(SmallInteger, nullable=False)
    number = mapped_column(Integer, nullable=False)
    big = mapped_column(BigInteger, nullable=False)
    ratio = mapped_column(Double, nullable=False)
    price = mapped_column(Numeric(12, 2), nullable=False)
    day = mapped_column(Date, nullable=False)
    clock = mapped_column(Time, nullable=False)
    moment = mapped_column(DateTime, nullable=False)  # naive: no time zone at all
    took = mapped_column(Interval, nullable=True)
    ident = mapped_column(Uuid, nullable=False)
    color = mapped_column(Enum(Color), nullable=False)
    data = mapped_column(JSON, nullable=True)
    blob = mapped_column(LargeBinary, nullable=True)
    # A name SQLAlchemy quotes: the application's queries need its exact case.
    legacy = mapped_column("LegacyCode", String(20), nullable=False, default="")


class Order(Base):
    # A reserved word as the table name.
    __tablename__ = "order"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id = mapped_column(ForeignKey("item.id"), nullable=False)
    waited = mapped_column(Interval, nullable=False)


def engine(database):
    if database.startswith("postgres"):
        return create_engine("postgresql+psycopg://" + database.split("://", 1)[1])
    return create_engine("sqlite:///" + database)


def fill(session):
    root = Category(name="root")
    child = Category(name="child", parent=root)
    grandchild = Category(name="grandchild", parent=child)
    gone = Category(name="deleted later")
    tags = [Tag(label=f"tag{i}") for i in range(5)]
    session.add_all([root, child, grandchild, gone, *tags])
    session.flush()
    durations = [
        datetime.timedelta(seconds=25.46),
        datetime.timedelta(microseconds=-1),
        datetime.timedelta(0),
        datetime.timedelta(hours=2, minutes=1),  # over 2^31 microseconds
        datetime.timedelta(days=365 * 80, microseconds=999999),
        datetime.timedelta(days=-3, hours=5, microseconds=7),
        None,
    ]
    floats = [0.1 + 0.2, 1 / 3, 1e308, -2.2250738585072014e-308, 123456789.12345679, 5e-324, 0.0]
    decimals = ["0.01", "-9999999999.99", "1234567890.12", "0.00", "42.00", "-0.50", "7.10"]
    idents = [uuid.UUID(int=1), uuid.UUID(int=(1 << 128) - 1)] + [
        uuid.UUID(int=(i * 0x9E3779B97F4A7C15F39CC0605CEDC835) % (1 << 128)) for i in range(1, 6)
    ]
    moments = [
        datetime.datetime(2024, 3, 31, 2, 30, 0, 999999),  # no such time in Paris: naive
        datetime.datetime(1970, 1, 1),
        datetime.datetime(1901, 12, 13, 20, 45, 52, 123456),
        datetime.datetime(2099, 12, 31, 23, 59, 59, 999999),
        datetime.datetime(2000, 2, 29, 12, 0, 0, 500000),
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
        {"a": [1, 2.5, None], "b": {"c": "é ☃"}},
        None,  # JSON null: SQLAlchemy's JSON stores None as 'null' (none_as_null=False)
        null(),  # SQL NULL
        "just a string",
        [0.30000000000000004, 1e-7, 12345678901234567890],
        {"nested": {"deep": [True, False, {}]}},
        0,
    ]
    blobs = [bytes(range(256)), b"", None, b"\x00", b"\xff\xfe", b"text", b"\x00" * 10]
    colors = [Color.RED, Color.GREEN, Color.BLUE, Color.RED, Color.BLUE, Color.GREEN, Color.RED]
    bounds = [(-32768, -2**31, -2**63), (32767, 2**31 - 1, 2**63 - 1), (0, 0, 0), (1, -1, 2**53 + 1),
              (-1, 1, -(2**53) - 1), (100, 100000, 10**18), (7, 7, 7)]
    items = []
    for i in range(7):
        item = Item(
            category_id=[root, child, None, gone, child, root, None][i] and [root, child, None, gone, child, root, None][i].id,
            flag=i % 2 == 0, maybe=[True, False, None][i % 3],
            small=bounds[i][0], number=bounds[i][1], big=bounds[i][2], ratio=floats[i],
            price=decimal.Decimal(decimals[i]), day=days[i], clock=clocks[i], moment=moments[i],
            took=durations[i], ident=idents[i], color=colors[i], data=jsons[i], blob=blobs[i],
            legacy=["Mixed", "", "CASE", "x", "ß", "a'b", "tab\there"][i],
            tags=tags[: i % 5],
        )
        session.add(item)
        session.flush()
        session.add(Order(item_id=item.id, waited=durations[i] or datetime.timedelta(hours=i)))
        items.append(item)
    session.flush()
    # Deletions: gaps in ids, the last ids among them.
    for item in (items[2], items[6]):
        for order in session.scalars(select(Order).where(Order.item_id == item.id)):
            session.delete(order)
        session.delete(item)
    session.flush()
    for item in session.scalars(select(Item).where(Item.category_id == gone.id)):
        item.category_id = None
    session.delete(gone)
    session.delete(tags[4])
    session.commit()


def canonical(value):
    """A value as (type name, text): what the application would see, exactly."""
    if isinstance(value, (bytes, memoryview)):
        return ["bytes", bytes(value).hex()]
    if isinstance(value, float):
        return ["float", repr(value)]
    if isinstance(value, (datetime.datetime, datetime.time)):
        return [type(value).__name__, value.isoformat(), "aware" if value.tzinfo else "naive"]
    if isinstance(value, (dict, list)):
        return [type(value).__name__, json.dumps(value, sort_keys=True)]
    return [type(value).__name__, str(value)]


def ids(session, query):
    return list(session.scalars(query))


def snapshot(session, ignore=()):
    objects = {}
    for model in (Category, Tag, Item, Order):
        rows = []
        for obj in session.scalars(select(model).order_by(model.id)):
            row = {c.key: canonical(getattr(obj, c.key)) for c in model.__mapper__.column_attrs
                   if c.key not in ignore}
            if model is Item:
                row["tags"] = [t.id for t in obj.tags]
            rows.append(row)
        objects[model.__name__] = rows
    q = {
        "flag true": select(Item.id).where(Item.flag.is_(True)).order_by(Item.id),
        "maybe null": select(Item.id).where(Item.maybe.is_(None)).order_by(Item.id),
        "big > 2^53": select(Item.id).where(Item.big > 2**53).order_by(Item.id),
        "ratio < 0.5": select(Item.id).where(Item.ratio < 0.5).order_by(Item.id),
        "day range": select(Item.id).where(Item.day.between(datetime.date(1950, 1, 1), datetime.date(2050, 1, 1))).order_by(Item.id),
        "clock after noon": select(Item.id).where(Item.clock >= datetime.time(12, 0)).order_by(Item.id),
        "moment after 2000": select(Item.id).where(Item.moment > datetime.datetime(2000, 1, 1)).order_by(Item.id),
        "ident": select(Item.id).where(Item.ident == uuid.UUID(int=1)),
        "color": select(Item.id).where(Item.color == Color.BLUE).order_by(Item.id),
        "sql null": select(Item.id).where(Item.data.is_(None)).order_by(Item.id),
        "legacy": select(Item.id).where(Item.legacy == "Mixed"),
        "children of root": select(Category.name).where(Category.parent.has(name="root")).order_by(Category.name),
        "order by ratio": select(Item.id).order_by(Item.ratio, Item.id),
        "orders join": select(Order.id).join(Item, Order.item_id == Item.id).where(Item.flag.is_(True)).order_by(Order.id),
    }
    queries = {name: [canonical(v) for v in session.scalars(query)] for name, query in q.items()}
    queries["price sum"] = str(session.scalar(select(func.sum(Item.price))).quantize(decimal.Decimal("0.01")))
    queries["items per tag"] = [list(r) for r in session.execute(
        select(Tag.label, func.count(item_tags.c.item_id)).outerjoin(item_tags).group_by(Tag.label).order_by(Tag.label))]
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


def fresh_ids(session):
    problems = []
    for model, make in ((Category, lambda: Category(name="new")), (Tag, lambda: Tag(label="new"))):
        top = session.scalar(select(func.max(model.id)))
        new = make()
        session.add(new)
        session.flush()
        if new.id <= top:
            problems.append(f"new {model.__name__} got id {new.id}, not past {top}")
    session.rollback()
    return problems


def main():
    command, database = sys.argv[1], sys.argv[2]
    with Session(engine(database)) as session:
        if command == "fill":
            Base.metadata.create_all(session.get_bind())
            fill(session)
            data = snapshot(session)
            with open(sys.argv[3], "w") as f:
                json.dump(data, f, indent=1, sort_keys=True)
            print(f"{sum(len(v) for v in data['objects'].values())} objects")
        elif command == "schema":
            Base.metadata.create_all(session.get_bind())
        elif command == "check":
            with open(sys.argv[3]) as f:
                expected = json.load(f)
            ignore = ()
            if sys.argv[4:5] == ["--ignore"]:
                ignore = tuple(sys.argv[5].split(","))
            for rows in expected["objects"].values():
                for row in rows:
                    for key in ignore:
                        row.pop(key, None)
            actual = json.loads(json.dumps(snapshot(session, ignore), sort_keys=True))
            problems = differences(expected, actual) + fresh_ids(session)
            for p in problems:
                print(p)
            print(f"{len(problems)} differences")
            sys.exit(1 if problems else 0)
        else:
            sys.exit(f"unknown command {command}")


if __name__ == "__main__":
    main()
