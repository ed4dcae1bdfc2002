"""The demo's people and shops: staff with their roles, two shops with warehouses, buyers with their usual address."""
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password

from aftersale.roles import arbitrators_group
from aftersale.services.return_addresses import return_address_create, return_address_default
from orders.models import Buyer
from shop_admin.kernel.actors import Actor
from shop_admin.kernel.constants import Role
from shop_admin.kernel.models import Membership, MerchantApiToken, Shop, ShopRules, Warehouse
from shop_admin.kernel.shoprules import shop_rules_update

DEMO_PASSWORD = "demo12345"
SHOP_1 = "抖店演示旗舰店"
SHOP_2 = "小李的杂货铺"

ADDRESSES = [
    {"name": "张三", "phone": "13800138000", "province": "北京市", "city": "北京市", "district": "朝阳区", "detail": "建国路88号SOHO现代城2号楼1单元1201"},
    {"name": "李四", "phone": "13912345678", "province": "广东省", "city": "深圳市", "district": "南山区", "detail": "科技园南区高新南一道9号"},
    {"name": "王五", "phone": "15098765432", "province": "浙江省", "city": "杭州市", "district": "西湖区", "detail": "文三路478号华星时代广场A座"},
    {"name": "赵六", "phone": "18611112222", "province": "四川省", "city": "成都市", "district": "武侯区", "detail": "天府大道中段666号"},
    {"name": "孙七", "phone": "17733334444", "province": "新疆维吾尔自治区", "city": "乌鲁木齐市", "district": "天山区", "detail": "解放北路1号3单元"},
    {"name": "周八", "phone": "13655556666", "province": "上海市", "city": "上海市", "district": "浦东新区", "detail": "世纪大道100号环球金融中心"},
    {"name": "吴九", "phone": "13761234567", "province": "江苏省", "city": "南京市", "district": "鼓楼区", "detail": "中山北路30号2栋502室"},
    {"name": "郑十", "phone": "15827654321", "province": "湖北省", "city": "武汉市", "district": "洪山区", "detail": "珞喻路1037号9栋3单元601"},
    {"name": "陈晓", "phone": "18991234567", "province": "陕西省", "city": "西安市", "district": "雁塔区", "detail": "小寨东路126号百隆广场1号楼"},
    {"name": "林悦", "phone": "15905921234", "province": "福建省", "city": "厦门市", "district": "思明区", "detail": "湖滨南路90号立信广场18楼"},
    {"name": "刘洋", "phone": "13975112345", "province": "湖南省", "city": "长沙市", "district": "岳麓区", "detail": "麓山南路932号7栋201"},
    {"name": "黄蕾", "phone": "18647112345", "province": "内蒙古自治区", "city": "呼和浩特市", "district": "赛罕区", "detail": "大学东街235号2单元403"},
]
DEMO_BUYERS = [f"demo_buyer_{n}" for n in range(1, len(ADDRESSES) + 1)]  # buyer n lives at ADDRESSES[n - 1]
HK_MO_TW = ["香港特别行政区", "澳门特别行政区", "台湾省"]
# Signed in with DEMO_PASSWORD; seed_demo prints them. finance sees the reconciliation and settlements only.
DEMO_USERNAMES = ("merchant", "service", "warehouse", "finance", "merchant2", "arbiter")
# The small shop promises to ship within 24 h (its own shop setting); the flagship keeps the platform's default.
DEMO_SHIP_PROMISE_HOURS = {SHOP_2: 24}


def demo_users() -> dict:
    User = get_user_model()
    users = {}
    hashed = None  # one hash for the demo users: each costs the hasher's full work factor
    for username in DEMO_USERNAMES:
        user, created = User.objects.get_or_create(username=username)
        if created:
            hashed = hashed or make_password(DEMO_PASSWORD)
            user.password = hashed
        if username == "arbiter":
            # Platform staff with only what arbitration needs (the group is made by aftersale's migration).
            user.is_staff = True
            user.is_superuser = False
        user.save()
        if username == "arbiter":
            user.groups.add(arbitrators_group())
        users[username] = user
    return users


# Each shop's default return address: agreeing to a return (the demo's and the merchant's) sends the buyer this one.
DEMO_RETURN_ADDRESSES = (
    {"name": "退货组", "phone": "13800000001", "province": "浙江省", "city": "杭州市", "district": "余杭区", "detail": "仓前街道梦想小镇1号"},
    {"name": "售后部", "phone": "13800000002", "province": "广东省", "city": "广州市", "district": "天河区", "detail": "体育西路1号"},
)


def demo_shops(users) -> tuple[Shop, Shop]:
    shop1, _ = Shop.objects.get_or_create(name=SHOP_1, defaults={"is_flagship": True})
    shop2, _ = Shop.objects.get_or_create(name=SHOP_2)
    for shop, address in ((shop1, DEMO_RETURN_ADDRESSES[0]), (shop2, DEMO_RETURN_ADDRESSES[1])):
        if return_address_default(shop_id=shop.pk) is None:  # a second seed_demo keeps what the merchant set
            return_address_create(shop=shop, data=address, is_default=True)
    for shop, warehouses in ((shop1, [("杭州仓", "浙江省", 0), ("广州仓", "广东省", 1)]), (shop2, [("广州仓", "广东省", 0)])):
        for name, province, priority in warehouses:
            Warehouse.objects.get_or_create(shop=shop, name=name, defaults={"province": province, "priority": priority})
    for username, shop, role in (
        ("merchant", shop1, Role.OWNER),
        ("service", shop1, Role.SERVICE),
        ("warehouse", shop1, Role.WAREHOUSE),
        ("finance", shop1, Role.FINANCE),
        ("merchant2", shop2, Role.OWNER),
    ):
        Membership.objects.get_or_create(user=users[username], shop=shop, defaults={"role": role})
        MerchantApiToken.objects.get_or_create(user=users[username])
    for shop in (shop1, shop2):
        hours = DEMO_SHIP_PROMISE_HOURS.get(shop.name)
        if hours and not ShopRules.objects.filter(shop=shop, ship_promise_hours__isnull=False).exists():
            # Set as its owner would on /settings/ (audited); a second seed_demo keeps what the merchant set since.
            owner = users["merchant2" if shop == shop2 else "merchant"]
            shop_rules_update(shop=shop, actor=Actor.for_user(owner), numbers={"ship_promise_hours": hours})
    return shop1, shop2


def demo_buyers(month_start: datetime) -> list[tuple[Buyer, dict]]:
    """The demo buyers, each with the address it orders to; they joined before the month began."""
    buyers = []
    for index, (name, address) in enumerate(zip(DEMO_BUYERS, ADDRESSES)):
        buyer, created = Buyer.objects.get_or_create(name=name)
        if created:
            Buyer.objects.filter(pk=buyer.pk).update(created_at=month_start - timedelta(days=40 + 23 * index))
        buyers.append((buyer, address))
    return buyers

# --- catalogue ---
