"""A Django application as a test bed for `dbshift migrate --data-only` (issue 12).

    bed.py fill SQLITE EXPECTED   Django creates SQLITE, fills it with edge values through the
                                  ORM, deletes some rows, and writes what Django reads back
                                  (every object, every field, its type) and the answers of
                                  typical queries to EXPECTED (JSON).
    bed.py schema PG_URL          Django creates its schema on PostgreSQL (`migrate`).
    bed.py check PG_URL EXPECTED  Django reads every object back from PostgreSQL and compares
                                  with EXPECTED; a new object must get a fresh id. Exit 1 with
                                  the differences listed when anything differs.
        [--ignore F,G]            Leaves fields F and G out (and the queries named after them,
                                  and new objects of their models): a schema not made by Django
                                  (dbshift's full mode) keeps a field whose SQLite declaration
                                  Django shares with another field (DurationField and
                                  BigIntegerField are both `bigint`) as the numbers it holds;
                                  the caller checks those values another way.

Django is the independent truth here: dbshift never sees this file's expectations.
"""
import datetime
import decimal
import json
import os
import sys
import uuid
from urllib.parse import unquote, urlparse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


def setup(database):
    import django
    from django.conf import settings

    if database.startswith("postgres"):
        url = urlparse(database)
        query = dict(p.split("=", 1) for p in url.query.split("&") if "=" in p)
        db = {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": url.path.lstrip("/"),
            "USER": unquote(url.username or ""),
            "PASSWORD": unquote(url.password or ""),
            "HOST": unquote(url.hostname or query.get("host", "")),
            "PORT": str(url.port or query.get("port", "")),
        }
    else:
        db = {"ENGINE": "django.db.backends.sqlite3", "NAME": database}
    settings.configure(
        INSTALLED_APPS=["shop"],
        DATABASES={"default": db},
        USE_TZ=True,
        TIME_ZONE="Europe/Paris",
        DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
    )
    django.setup()


def migrate():
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


PARIS = None


def fill():
    from django.db.models import Value
    from django.db.models import JSONField
    from shop.models import Category, Color, Item, Order, Tag
    from zoneinfo import ZoneInfo

    paris = ZoneInfo("Europe/Paris")
    utc = datetime.timezone.utc
    root = Category.objects.create(name="root")
    child = Category.objects.create(name="child", parent=root)
    Category.objects.create(name="grandchild", parent=child)
    gone = Category.objects.create(name="deleted later")
    tags = [Tag.objects.create(label=f"tag{i}") for i in range(5)]

    durations = [
        datetime.timedelta(seconds=25.46),  # the 25.46 s
        datetime.timedelta(microseconds=-1),
        datetime.timedelta(0),
        datetime.timedelta(hours=2, minutes=1),  # over 2^31 microseconds
        datetime.timedelta(days=365 * 80, microseconds=999999),
        datetime.timedelta(days=-3, hours=5, microseconds=7),
        None,
    ]
    floats = [0.1 + 0.2, 1 / 3, 1e308, -2.2250738585072014e-308, 123456789.12345679, 5e-324, 0.0]
    decimals = ["0.01", "-9999999999.99", "1234567890.12", "0.00", "42", "-0.50", "7.10"]
    idents = [
        uuid.UUID("00000000-0000-0000-0000-000000000001"),
        uuid.UUID("ffffffff-ffff-ffff-ffff-ffffffffffff"),
    ] + [uuid.UUID(int=(i * 0x9E3779B97F4A7C15F39CC0605CEDC835) % (1 << 128)) for i in range(1, 6)]
    moments = [
        datetime.datetime(2024, 3, 31, 1, 59, 59, 999999, tzinfo=paris),
        datetime.datetime(2024, 3, 31, 3, 0, 0, 1, tzinfo=paris),
        datetime.datetime(1970, 1, 1, 0, 0, tzinfo=utc),
        datetime.datetime(1901, 12, 13, 20, 45, 52, 123456, tzinfo=utc),
        datetime.datetime(2099, 12, 31, 23, 59, 59, 999999, tzinfo=utc),
        datetime.datetime(2000, 2, 29, 12, 0, 0, 500000, tzinfo=ZoneInfo("America/New_York")),
        datetime.datetime(1999, 12, 31, 23, 59, 59, tzinfo=utc),
    ]
    days = [datetime.date(1, 1, 1), datetime.date(9999, 12, 31), datetime.date(2000, 2, 29),
            datetime.date(1970, 1, 1), datetime.date(1969, 12, 31), datetime.date(2024, 1, 1),
            datetime.date(1900, 3, 1)]
    clocks = [datetime.time(0, 0), datetime.time(23, 59, 59, 999999), datetime.time(12, 30),
              datetime.time(1, 2, 3, 4), datetime.time(13, 0, 0, 100000), datetime.time(6, 0),
              datetime.time(18, 45, 1)]
    jsons = [
        {"a": [1, 2.5, None], "b": {"c": "é ☃"}},
        Value(None, JSONField()),  # JSON null, not SQL NULL
        None,  # SQL NULL
        "just a string",
        [0.30000000000000004, 1e-7, 12345678901234567890],
        {"nested": {"deep": [True, False, {}]}},
        0,
    ]
    blobs = [bytes(range(256)), b"", None, b"\x00", b"\xff\xfe", b"text", b"\x00" * 10]
    ips = ["192.168.0.1", "2001:db8::1", None, "::ffff:1.2.3.4", "10.0.0.255", "::1", "255.255.255.255"]
    colors = [Color.RED, Color.GREEN, Color.BLUE, Color.RED, Color.BLUE, Color.GREEN, Color.RED]
    bounds = [(-32768, -2**31, -2**63), (32767, 2**31 - 1, 2**63 - 1), (0, 0, 0), (1, -1, 2**53 + 1),
              (-1, 1, -(2**53) - 1), (100, 100000, 10**18), (7, 7, 7)]
    items = []
    for i in range(7):
        item = Item.objects.create(
            category=[root, child, None, gone, child, root, None][i],
            flag=i % 2 == 0,
            maybe=[True, False, None][i % 3],
            small=bounds[i][0],
            number=bounds[i][1],
            big=bounds[i][2],
            ratio=floats[i],
            price=decimal.Decimal(decimals[i]),
            day=days[i],
            clock=clocks[i],
            moment=moments[i],
            took=durations[i],
            ident=idents[i],
            color=colors[i],
            data=jsons[i],
            blob=blobs[i],
            ip=ips[i],
            legacy=["Mixed", "", "CASE", "x", "ß", "a'b", "tab\there"][i],
        )
        item.tags.set(tags[: i % 5])
        items.append(item)
        Order.objects.create(item=item, quantity=i, waited=durations[i] or datetime.timedelta(hours=i))
    # Deletions: gaps in ids, and the last ids deleted so sqlite_sequence is ahead of max(id).
    items[2].delete()
    items[6].delete()
    gone.delete()  # SET_NULL on its item
    tags[4].delete()


def canonical(value):
    """A value as (type name, text): what the application would see, exactly."""
    if isinstance(value, memoryview):
        value = bytes(value)
    if isinstance(value, bytes):
        return ["bytes", value.hex()]
    if isinstance(value, float):
        return ["float", repr(value)]
    if isinstance(value, datetime.datetime):
        return ["datetime", value.astimezone(datetime.timezone.utc).isoformat() if value.tzinfo else value.isoformat(),
                "aware" if value.tzinfo else "naive"]
    if isinstance(value, (dict, list)):
        return [type(value).__name__, json.dumps(value, sort_keys=True)]
    return [type(value).__name__, str(value)]


def snapshot(ignore=()):
    from django.db.models import Avg, Count, F, Max, Min, Q, Sum
    from shop.models import Category, Item, Order, Tag
    import datetime as dt

    objects = {}
    for model in (Category, Tag, Item, Order):
        rows = []
        for obj in model.objects.order_by("pk"):
            row = {f.attname: canonical(getattr(obj, f.attname)) for f in model._meta.concrete_fields
                   if f.attname not in ignore}
            if model is Item:
                row["tags"] = sorted(t.pk for t in obj.tags.all())
            rows.append(row)
        objects[model.__name__] = rows
    queries = {
        "flag true": lambda: list(Item.objects.filter(flag=True).values_list("pk", flat=True).order_by("pk")),
        "maybe null": lambda: list(Item.objects.filter(maybe__isnull=True).values_list("pk", flat=True).order_by("pk")),
        "big > 2^53": lambda: list(Item.objects.filter(big__gt=2**53).values_list("pk", flat=True).order_by("pk")),
        "ratio < 0.5": lambda: list(Item.objects.filter(ratio__lt=0.5).values_list("pk", flat=True).order_by("pk")),
        # SQLite sums the stored REALs, PostgreSQL the numerics: equal values, other digits.
        "price sum": lambda: str(Item.objects.aggregate(s=Sum("price"))["s"].quantize(decimal.Decimal("0.01"))),
        "day range": lambda: list(Item.objects.filter(day__range=(dt.date(1950, 1, 1), dt.date(2050, 1, 1))).values_list("pk", flat=True).order_by("pk")),
        "clock after noon": lambda: list(Item.objects.filter(clock__gte=dt.time(12, 0)).values_list("pk", flat=True).order_by("pk")),
        "moment year": lambda: list(Item.objects.filter(moment__year=2024).values_list("pk", flat=True).order_by("pk")),
        "took over an hour": lambda: list(Item.objects.filter(took__gt=dt.timedelta(hours=1)).values_list("pk", flat=True).order_by("pk")),
        "took negative": lambda: list(Item.objects.filter(took__lt=dt.timedelta(0)).values_list("pk", flat=True).order_by("pk")),
        "waited max": lambda: str(Order.objects.aggregate(m=Max("waited"))["m"]),
        "ident": lambda: list(Item.objects.filter(ident=uuid.UUID(int=1)).values_list("pk", flat=True)),
        "color counts": lambda: sorted(Item.objects.values("color").annotate(n=Count("pk")).values_list("color", "n")),
        "json key": lambda: list(Item.objects.filter(data__a__1=2.5).values_list("pk", flat=True)),
        "json null": lambda: list(Item.objects.filter(data=None).values_list("pk", flat=True).order_by("pk")),
        "sql null": lambda: list(Item.objects.filter(data__isnull=True).values_list("pk", flat=True).order_by("pk")),
        "ip": lambda: list(Item.objects.filter(ip="2001:db8::1").values_list("pk", flat=True)),
        "legacy": lambda: list(Item.objects.filter(legacy="Mixed").values_list("pk", flat=True)),
        "children of root": lambda: sorted(Category.objects.filter(parent__name="root").values_list("name", flat=True)),
        "items per tag": lambda: sorted(Tag.objects.annotate(n=Count("item")).values_list("label", "n")),
        "orders join": lambda: list(Order.objects.filter(item__category__name="child").values_list("pk", flat=True).order_by("pk")),
        "order by ratio": lambda: list(Item.objects.order_by("ratio", "pk").values_list("pk", flat=True)),
    }
    # Evaluated lazily: a query on an ignored field may not run on the schema at all.
    queries = {name: query() for name, query in queries.items()
               if not any(field in name.split() for field in ignore)}
    return {"objects": objects, "queries": queries}


def differences(expected, actual, path=""):
    if isinstance(expected, dict) and isinstance(actual, dict):
        out = []
        for key in sorted(set(expected) | set(actual)):
            out += differences(expected.get(key), actual.get(key), f"{path}.{key}")
        return out
    if isinstance(expected, list) and isinstance(actual, list) and len(expected) == len(actual) \
            and all(isinstance(e, (dict, list)) for e in expected):
        out = []
        for i, (e, a) in enumerate(zip(expected, actual)):
            out += differences(e, a, f"{path}[{i}]")
        return out
    return [] if expected == actual else [f"{path}: expected {expected!r}, got {actual!r}"]


def copy_of(obj):
    obj.pk = None
    obj._state.adding = True
    obj.save()
    return obj


def fresh_ids(ignore=()):
    """Each model's new object gets an id past every copied one."""
    from shop.models import Category, Item, Tag

    problems = []
    for model, make in (
        (Category, lambda: Category.objects.create(name="new")),
        (Tag, lambda: Tag.objects.create(label="new")),
        (Item, lambda: copy_of(Item.objects.order_by("pk").first())),
    ):
        if any(f.attname in ignore for f in model._meta.concrete_fields):
            continue
        top = max(model.objects.values_list("pk", flat=True))
        new = make()
        if new.pk <= top:
            problems.append(f"new {model.__name__} got id {new.pk}, not past {top}")
    return problems


def ignored(args):
    """The fields named by `--ignore F,G`."""
    if not args:
        return ()
    if len(args) != 2 or args[0] != "--ignore":
        sys.exit(f"unknown arguments {args}")
    return tuple(args[1].split(","))


def leave_out(expected, ignore):
    """Leaves the ignored fields and the queries named after them out of `expected`."""
    for rows in expected["objects"].values():
        for row in rows:
            for field in ignore:
                row.pop(field, None)
    for name in list(expected["queries"]):
        if any(field in name.split() for field in ignore):
            del expected["queries"][name]


def main():
    command, database = sys.argv[1], sys.argv[2]
    setup(database)
    if command == "fill":
        migrate()
        fill()
        data = snapshot()
        with open(sys.argv[3], "w") as f:
            json.dump(data, f, indent=1, sort_keys=True)
        print(f"{sum(len(v) for v in data['objects'].values())} objects")
    elif command == "schema":
        migrate()
    elif command == "check":
        with open(sys.argv[3]) as f:
            expected = json.load(f)
        ignore = ignored(sys.argv[4:])
        leave_out(expected, ignore)
        actual = json.loads(json.dumps(snapshot(ignore), sort_keys=True))
        problems = differences(expected, actual) + fresh_ids(ignore)
        for p in problems:
            print(p)
        print(f"{len(problems)} differences")
        sys.exit(1 if problems else 0)
    else:
        sys.exit(f"unknown command {command}")


if __name__ == "__main__":
    main()
