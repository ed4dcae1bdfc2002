"""Evidence uploads: checked by their bytes and size, kept outside the web root, a 404 for anyone but the case's shop."""
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from aftersale.models import AfterSaleCase, EvidenceFile
from tests.factories import make_member, make_shop

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture(autouse=True)
def private_storage(settings, tmp_path):
    settings.EVIDENCE_ROOT = tmp_path
    return tmp_path


def upload(buyer_api, case_id, name, content, content_type):
    response = buyer_api.client.post(
        f"/api/v1/aftersales/{case_id}/evidence",
        {"file": SimpleUploadedFile(name, content, content_type=content_type)},
        headers={"Authorization": f"Bearer {buyer_api.token}"},
    )
    return response.status_code, response.json()


def test_a_buyer_uploads_a_photo_the_merchant_sees_it_another_shop_does_not(order_in, open_case, buyer_api, console, private_storage):
    case = open_case(order_in("delivered"), "refund_only")
    status, body = upload(buyer_api, case["id"], "../../etc/passwd.png", PNG, "image/png")
    assert status == 201, body
    assert body["content_type"] == "image/png" and body["url"] in AfterSaleCase.objects.get(pk=case["id"]).evidence
    stored = EvidenceFile.objects.get(pk=body["id"])
    assert str(private_storage) in stored.file.path and "passwd" not in stored.file.name  # our name, our folder
    response = console.get(body["url"])
    assert response.status_code == 200 and b"".join(response.streaming_content) == PNG
    assert response["X-Content-Type-Options"] == "nosniff"
    assert f'<img src="{body["url"]}"' in console.get(f"/aftersales/{case['id']}/").content.decode()
    stranger = Client()
    stranger.force_login(make_member(make_shop("隔壁店")))
    assert stranger.get(body["url"]).status_code == 404


def test_a_file_that_is_not_an_image_or_too_big_is_refused(order_in, open_case, buyer_api, settings):
    case = open_case(order_in("delivered"), "refund_only")
    status, body = upload(buyer_api, case["id"], "a.png", b"<html><script>alert(1)</script>", "image/png")
    assert status == 422 and "file" in body["error"]["details"]["fields"]
    settings.EVIDENCE_MAX_IMAGE_BYTES = 10
    status, body = upload(buyer_api, case["id"], "b.png", PNG, "image/png")
    assert status == 422 and "MB" in body["error"]["details"]["fields"]["file"]
    assert not EvidenceFile.objects.exists()


def test_the_merchant_rejects_with_an_uploaded_photo(order_in, open_case, console):
    case = open_case(order_in("delivered"), "refund_only")
    console.post(
        f"/aftersales/{case['id']}/operate/",
        {"action": "reject", "reason": "发货视频为证", "evidence_file": SimpleUploadedFile("qc.png", PNG, content_type="image/png")},
    )
    rejected = AfterSaleCase.objects.get(pk=case["id"])
    assert rejected.status == "rejected" and rejected.reject_evidence[0].startswith(f"/aftersales/{case['id']}/evidence/")
