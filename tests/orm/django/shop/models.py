"""Models covering each field type Django stores differently on SQLite and PostgreSQL."""
from django.db import models


class Color(models.TextChoices):
    RED = "red", "Red"
    GREEN = "green", "Green"
    BLUE = "blue", "Blue"


class Category(models.Model):
    name = models.CharField(max_length=50)
    # A self-reference: Django makes it DEFERRABLE INITIALLY DEFERRED on PostgreSQL.
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="children"
    )


class Tag(models.Model):
    label = models.CharField(max_length=30, unique=True)


class Item(models.Model):
    category = models.ForeignKey(Category, null=True, on_delete=models.SET_NULL)
    tags = models.ManyToManyField(Tag, blank=True)
    flag = models.BooleanField(default=False)
    maybe = models.BooleanField(null=True)
    small = models.SmallIntegerField()
    number = models.IntegerField()
    big = models.BigIntegerField()
    ratio = models.FloatField()
    price = models.DecimalField(max_digits=12, decimal_places=2)
    day = models.DateField()
    clock = models.TimeField()
    moment = models.DateTimeField()
    took = models.DurationField(null=True)
    ident = models.UUIDField()
    color = models.CharField(max_length=10, choices=Color.choices)
    data = models.JSONField(null=True)
    blob = models.BinaryField(null=True)
    ip = models.GenericIPAddressField(null=True)
    # A name the ORM quotes: the application's queries need its exact case.
    legacy = models.CharField(max_length=20, db_column="LegacyCode", blank=True)


class Order(models.Model):
    # A reserved word as the table name.
    item = models.ForeignKey(Item, on_delete=models.CASCADE)
    quantity = models.PositiveIntegerField()
    waited = models.DurationField()

    class Meta:
        db_table = "order"
