#!/usr/bin/env python3
"""Signs in to a running permitd the way the PWA does and prints the session cookie's value
(a clerk's session, which needs a passkey, comes from api/examples/staff_session.rs).

    session.py BASE resident USERNAME PHONE   registers (captcha, SMS code), signs in
    session.py BASE draft COOKIE POINT        a draft application at service point POINT; its id
    session.py BASE permit RESIDENT,CLERK POINT  a permit issued to the resident (the clock moves
                                              to the appointment day); its id

Standard library only: it runs before the fuzz venv is involved and needs nothing else.
"""
import base64
import hashlib
import http.cookies
import json
import sys
import urllib.error
import urllib.request

PASSWORD = "Fuzz2026pw"
ID_FIRST17 = "33010219900101771"


def call(base, method, path, body=None, cookie=None, upload=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + "/api/v1" + path, data=data, method=method)
    if cookie:
        req.add_header("cookie", f"permit_session={cookie}")
    if upload is not None:
        name, content = upload
        boundary = "fuzzboundary2026"
        req.data = (f"--{boundary}\r\ncontent-disposition: form-data; name=\"file\"; "
                    f"filename=\"{name}\"\r\ncontent-type: application/pdf\r\n\r\n").encode() \
            + content + f"\r\n--{boundary}--\r\n".encode()
        req.add_header("content-type", f"multipart/form-data; boundary={boundary}")
    elif data is not None:
        req.add_header("content-type", "application/json")
    try:
        with urllib.request.urlopen(req) as resp:
            return resp.status, json.load(resp), resp.headers
    except urllib.error.HTTPError as err:
        return err.code, json.load(err), err.headers


def check_character(first17):
    # ISO 7064 MOD 11-2, as identity::model::check_character.
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    total = sum(int(c) * w for c, w in zip(first17, weights))
    return "10X98765432"[total % 11]


def solve_captcha(base):
    _, c, _ = call(base, "GET", "/captcha")
    for number in range(c["maxnumber"] + 1):
        if hashlib.sha256(f"{c['salt']}{number}".encode()).hexdigest() == c["challenge"]:
            payload = {k: c[k] for k in ("algorithm", "challenge", "salt", "signature")}
            payload["number"] = number
            return base64.b64encode(json.dumps(payload).encode()).decode()
    sys.exit("captcha: no solution")


def last_code(base, phone):
    _, messages, _ = call(base, "GET", f"/dev/sms?phone={phone}")
    text = messages[-1]["text"]
    return next(text[i : i + 6] for i in range(len(text) - 5) if text[i : i + 6].isdigit())


def privacy_notice_version(base):
    # Registration agrees to the notice the server shows now.
    status, body, _ = call(base, "GET", "/privacy-notice")
    expect(status, body, 200, "privacy notice")
    return body["version"]


def expect(status, body, want, what):
    if status != want:
        sys.exit(f"{what}: {status} {body}")


def sign_in(base, username, password, sms_code=None):
    return call(base, "POST", "/sessions",
                {"username": username, "password": password, "sms_code": sms_code})


def cookie_of(headers):
    jar = http.cookies.SimpleCookie()
    for value in headers.get_all("set-cookie") or []:
        jar.load(value)
    return jar["permit_session"].value


def resident(base, username, phone):
    # Signed out, the SMS code and the registration each spend a captcha solution of their own.
    status, body, _ = call(base, "POST", "/sms-codes",
                           {"phone": phone, "purpose": "register", "captcha": solve_captcha(base)})
    captcha = solve_captcha(base)
    expect(status, body, 200, "sms code")
    status, body, _ = call(base, "POST", "/accounts", {
        "username": username, "password": PASSWORD, "password_confirmation": PASSWORD,
        "real_name": "张测试", "id_number": ID_FIRST17 + check_character(ID_FIRST17),
        "sex": "male", "phone": phone, "sms_code": last_code(base, phone),
        "region_code": "330102001", "captcha": captcha,
        "privacy_notice_version": privacy_notice_version(base),
    })
    expect(status, body, 201, "registration")
    # The first sign-in asks for an SMS code, which the sink holds.
    status, body, _ = sign_in(base, username, PASSWORD)
    expect(status, body, 401, "first sign-in")
    status, body, headers = sign_in(base, username, PASSWORD, last_code(base, phone))
    expect(status, body, 200, "sign-in with the SMS code")
    return cookie_of(headers)


def draft(base, cookie, point, condition=None):
    _, communities, _ = call(base, "GET", "/regions?parent=330102001")
    fields = {
        "district_code": "330102", "street_code": "330102001", "address_detail": "四宜路61号2幢301室",
        "community_code": communities[0]["code"], "service_point_id": point,
    }
    if condition:
        fields["condition"] = condition
    status, body, _ = call(base, "POST", "/applications", fields, cookie)
    expect(status, body, 201, "draft application")
    return body["id"]


def permit(base, cookies, point):
    # The counter's way, as api/tests/common/flow.rs issue_permit: submit with one proof, book
    # the first free day, pass the review, move to that day, check in, issue.
    resident_cookie, clerk = cookies.split(",")
    app = draft(base, resident_cookie, point, "talent")  # exempt from the residence period: no registration here
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    steps = [
        (resident_cookie, "POST", f"/applications/{app}/materials", None, ("合同.pdf", pdf), 201),
        (resident_cookie, "POST", f"/applications/{app}/submit", {}, None, 200),
    ]
    for cookie, method, path, body, upload, want in steps:
        status, answer, _ = call(base, method, path, body, cookie, upload)
        expect(status, answer, want, path)
    _, cal, _ = call(base, "GET", f"/applications/{app}/calendar", cookie=resident_cookie)
    day = next(d["date"] for d in cal["days"] if d["state"] == "available")
    for cookie, method, path, body, want in [
        (resident_cookie, "PUT", f"/applications/{app}/appointment", {"date": day}, 200),
        (clerk, "POST", f"/staff/applications/{app}/review", {"decision": "pass"}, 200),
        (None, "PUT", "/dev/clock", {"now": f"{day}T02:00:00Z"}, 200),
    ]:
        status, answer, _ = call(base, method, path, body, cookie)
        expect(status, answer, want, path)
    _, todays, _ = call(base, "GET", f"/staff/appointments?service_point_id={point}", cookie=clerk)
    appointment = next(a["id"] for a in todays["items"] if a["application_id"] == app)
    status, answer, _ = call(base, "POST", f"/staff/appointments/{appointment}/check-in", {}, clerk)
    expect(status, answer, 200, "check-in")
    status, answer, _ = call(base, "POST", f"/staff/applications/{app}/issue", {}, clerk)
    expect(status, answer, 200, "issue")
    return answer["id"]


if __name__ == "__main__":
    base, kind, a, b = sys.argv[1:5]
    make = {"resident": resident, "draft": draft, "permit": permit}[kind]
    print(make(base, a, b))
