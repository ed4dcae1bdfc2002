"""The return address book; each shop's old return address text becomes its default address where it parses."""

import django.db.models.deletion
import re

from django.db import migrations, models

PHONE_IN_TEXT = re.compile(r"1[3-9]\d{9}")


def _parse(text: str, *, name: str, phone: str) -> dict | None:
    """The text as an address, or None: it must start with a province, city and district of the division tree, and a
    mobile number must be in it or be the shop's sender phone (the text field never held one)."""
    from orders.addresses import address_validate, division_tree
    from shop_admin.kernel.errors import Invalid

    found = PHONE_IN_TEXT.search(text)
    if found:
        phone, text = found.group(), text.replace(found.group(), " ")
    rest = text.strip()
    tree = division_tree()
    province = next((p for p in sorted(tree, key=len, reverse=True) if rest.startswith(p)), None)
    if province is None:
        return None
    rest = rest[len(province):].strip()
    cities = tree[province]
    city = next((c for c in sorted(cities, key=len, reverse=True) if rest.startswith(c)), None)
    if city is None and province in cities:  # a municipality written once: 上海市浦东新区...
        city = province
    elif city is not None:
        rest = rest[len(city):].strip()
    if city is None:
        return None
    district = next((d for d in sorted(cities[city], key=len, reverse=True) if rest.startswith(d)), None)
    if district is None:
        return None
    detail = rest[len(district):].strip()
    try:
        address = address_validate(
            {"name": name, "phone": phone, "province": province, "city": city, "district": district, "detail": detail}
        )
    except Invalid:
        return None
    return address.as_dict()


def shop_text_to_address(apps, schema_editor):
    """Where the old text parses, it is the shop's default; where it does not, the text stays on the shop as history and
    the merchant adds an address in the console (agreeing to a return asks for one)."""
    Shop = apps.get_model("shop_admin", "Shop")
    ReturnAddress = apps.get_model("aftersale", "ReturnAddress")
    for shop in Shop.objects.exclude(return_address="").iterator():
        if ReturnAddress.objects.filter(shop_id=shop.pk).exists():
            continue
        fields = _parse(shop.return_address, name=(shop.sender_name or shop.name)[:40], phone=shop.sender_phone)
        if fields is not None:
            ReturnAddress.objects.create(shop_id=shop.pk, is_default=True, **fields)


class Migration(migrations.Migration):

    dependencies = [
        ('aftersale', '0010_one_open_case_per_line'),
        ('shop_admin', '0007_shop_sender'),
    ]

    operations = [
        migrations.AlterField(
            model_name='aftersalecase',
            name='return_address',
            field=models.CharField(blank=True, max_length=400, verbose_name='退货地址'),
        ),
        migrations.CreateModel(
            name='ReturnAddress',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=40, verbose_name='收件人')),
                ('phone', models.CharField(max_length=11, verbose_name='手机号')),
                ('province', models.CharField(max_length=30, verbose_name='省')),
                ('city', models.CharField(max_length=30, verbose_name='市')),
                ('district', models.CharField(max_length=30, verbose_name='区')),
                ('detail', models.CharField(max_length=200, verbose_name='详细地址')),
                ('is_default', models.BooleanField(default=False, verbose_name='默认')),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('updated_at', models.DateTimeField(auto_now=True)),
                ('shop', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='shop_admin.shop')),
            ],
            options={
                'verbose_name': '退货地址',
                'verbose_name_plural': '退货地址',
                'ordering': ['-is_default', 'id'],
                'indexes': [models.Index(fields=['shop', 'id'], name='aftersale_return_address_shop')],
                'constraints': [models.UniqueConstraint(condition=models.Q(('is_default', True)), fields=('shop',), name='aftersale_one_default_return_address')],
            },
        ),
        migrations.RunPython(shop_text_to_address, migrations.RunPython.noop),
    ]
