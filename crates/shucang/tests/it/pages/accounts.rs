//! Accounts on the web: registering, logging in and out with the form
//! token, real-name verification and the collection page.

use reqwest::StatusCode;

use super::Visitor;
use crate::harness::TestApp;
use crate::support::{header, set_cookie, set_cookie_value, sms_code};

/// A form's fields: the token, the phone and the password.
fn credentials(csrf: &str, phone: &str, password: &str) -> Vec<(&'static str, String)> {
    vec![
        ("csrf", csrf.to_owned()),
        ("phone", phone.to_owned()),
        ("password", password.to_owned()),
    ]
}

/// Registration's second form: the token, the phone, the SMS code and the
/// password.
fn with_code(csrf: &str, phone: &str, code: &str, password: &str) -> Vec<(&'static str, String)> {
    let mut fields = credentials(csrf, phone, password);
    fields.push(("code", code.to_owned()));
    fields
}

/// Both steps of registration on the web: the number, then the code from
/// the SMS with the password; the last answer.
async fn register_on_web(
    visitor: &Visitor<'_>,
    csrf: &str,
    phone: &str,
    password: &str,
) -> reqwest::Response {
    let fields = [("csrf", csrf.to_owned()), ("phone", phone.to_owned())];
    let res = visitor.post("/register/code", &fields).await;
    assert_eq!(res.status(), StatusCode::OK);
    let code = sms_code(&visitor.app.last_sms(phone).await).unwrap();
    visitor
        .post("/register", &with_code(csrf, phone, &code, password))
        .await
}

#[tokio::test]
async fn register_log_in_and_out_on_the_web() {
    let app = TestApp::spawn().await;
    let page = Visitor::new(&app, "").get("/register").await;
    let csrf = set_cookie_value(&page);
    assert!(page.text().await.unwrap().contains("获取短信验证码"));
    let jar = format!("shucang_csrf={csrf}");
    let visitor = Visitor::new(&app, jar.clone());
    let number = |phone: &str| vec![("csrf", csrf.clone()), ("phone", phone.to_owned())];

    // Errors in the page, in Chinese, nothing sent or created.
    let res = visitor.post("/register/code", &number("12345")).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = res.text().await.unwrap();
    assert!(page.contains("请输入中国大陆手机号") && page.contains("value=\"12345\""));
    let res = visitor
        .post("/register/code", &number("13812345678")[1..])
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "no token in the form");
    let page = res.text().await.unwrap();
    assert!(
        page.contains("表单已过期") && page.contains("value=\"13812345678\""),
        "the form again with what was typed: {page}"
    );
    assert!(app.notifier.recent(None, 10).await.unwrap().is_empty());

    // The number: the code is sent, the second step asks for it.
    let res = visitor
        .post("/register/code", &number("138 1234 5678"))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let page = res.text().await.unwrap();
    assert!(
        page.contains("138****5678") && page.contains("短信验证码"),
        "{page}"
    );
    let code = sms_code(&app.last_sms("13812345678").await).unwrap();
    assert!(!page.contains(&code), "a real site never shows the code");

    // The second step's errors keep the code typed.
    let res = visitor
        .post(
            "/register",
            &with_code(&csrf, "138 1234 5678", &code, "abcdefgh"),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = res.text().await.unwrap();
    assert!(page.contains("至少三类") && page.contains(&format!("value=\"{code}\"")));
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let res = visitor
        .post(
            "/register",
            &with_code(&csrf, "138 1234 5678", wrong, "Shucang#2026"),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("验证码错误或已过期"));
    assert_eq!(app.account_rows().await, 0);

    // Register: logged in at once.
    let res = visitor
        .post(
            "/register",
            &with_code(&csrf, "138 1234 5678", &code, "Shucang#2026"),
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let session = set_cookie(&res);
    assert!(session.starts_with("shucang_session="));
    let logged_in = Visitor::new(&app, format!("{jar}; {session}"));
    let home = logged_in.text("/").await;
    assert!(home.contains("138****5678") && home.contains("退出"));
    // Asking again for the registered number looks the same; the SMS
    // tells the owner.
    let res = visitor.post("/register/code", &number("13812345678")).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.text().await.unwrap().contains("短信验证码"));
    assert!(app.last_sms("13812345678").await.contains("该号码已注册"));
    log_out_then_in_again(&visitor, &logged_in, &csrf).await;
    app.stop().await;
}

/// In demo mode (`serve --demo`) no SMS is sent, so the second step shows
/// the sandbox SMS.
#[tokio::test]
async fn the_demo_shows_the_sandbox_sms_on_the_page() {
    let app = TestApp::spawn_demo().await;
    let page = Visitor::new(&app, "").get("/register").await;
    let csrf = set_cookie_value(&page);
    let visitor = Visitor::new(&app, format!("shucang_csrf={csrf}"));
    let fields = [("csrf", csrf.clone()), ("phone", "13912345678".to_owned())];
    let res = visitor.post("/register/code", &fields).await;
    assert_eq!(res.status(), StatusCode::OK);
    let page = res.text().await.unwrap();
    let code = sms_code(&app.last_sms("13912345678").await).unwrap();
    assert!(page.contains("演示模式") && page.contains(&code), "{page}");
    app.stop().await;
}

/// Logging out ends the session for the API too; a wrong password, or a
/// form token that is not the cookie's, is said in the page; the right
/// ones log in.
async fn log_out_then_in_again(visitor: &Visitor<'_>, logged_in: &Visitor<'_>, csrf: &str) {
    // Log out: the session is gone for the API too.
    let res = logged_in
        .post("/logout", &[("csrf", logged_in.bound_token())])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(header(&res, "set-cookie").contains("Max-Age=0"));
    let me = logged_in.get("/api/v1/me").await;
    assert_eq!(me.status(), StatusCode::UNAUTHORIZED);

    // Log in: a wrong password is said in the page; the right one logs in.
    let res = visitor
        .post("/login", &credentials(csrf, "13812345678", "Wrong#pass1"))
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(res.text().await.unwrap().contains("手机号或密码错误"));
    let res = visitor
        .post(
            "/login",
            &credentials(&"f".repeat(32), "13812345678", "Shucang#2026"),
        )
        .await;
    assert_eq!(
        res.status(),
        StatusCode::FORBIDDEN,
        "a token that is not the cookie's"
    );
    let res = visitor
        .post("/login", &credentials(csrf, "13812345678", "Shucang#2026"))
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let session = set_cookie(&res);
    let me = Visitor::new(visitor.app, format!("{}; {session}", visitor.cookie))
        .get("/api/v1/me")
        .await;
    assert_eq!(me.status(), StatusCode::OK);
}

#[tokio::test]
async fn real_name_and_collection_pages_for_the_logged_in_account() {
    let app = TestApp::spawn().await;
    let nobody = Visitor::new(&app, "");
    // Not logged in: sent to the login page.
    let res = nobody.get("/me/identity").await;
    assert_eq!(
        (res.status(), res.headers()["location"].to_str().unwrap()),
        (StatusCode::SEE_OTHER, "/login")
    );
    let res = nobody.get("/me/collection").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);

    let token = crate::identity::user(&app, "13812340000").await;
    let csrf = "a".repeat(32);
    let visitor = Visitor::signed_in(&app, &csrf, &token);
    let page = visitor.text("/me/identity").await;
    assert!(page.contains("个人信息处理告知与同意") && page.contains("name=\"consent\""));
    let id = crate::identity::id_number("11010519900307123");
    let fields = |csrf: &str, id_number: &str, consent: bool| {
        let mut fields = vec![
            ("csrf", csrf.to_owned()),
            ("name", "张三".to_owned()),
            ("id_number", id_number.to_owned()),
        ];
        if consent {
            fields.push(("consent", "yes".to_owned()));
        }
        fields
    };
    // Signed in, the form token is the session's: the cookie's own token,
    // which a stranger could have planted, no longer counts.
    let res = visitor
        .post("/me/identity", &fields(&csrf, &id, true))
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(res.text().await.unwrap().contains("表单已过期"));
    let res = visitor
        .post("/me/identity", &fields(&visitor.csrf, &id, false))
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        res.text().await.unwrap().contains("请先勾选同意"),
        "consent first"
    );
    let res = visitor
        .post(
            "/me/identity",
            &fields(&visitor.csrf, "110105199003071230", true),
        )
        .await;
    assert!(res.text().await.unwrap().contains("身份证号码无效"));
    let res = visitor
        .post("/me/identity", &fields(&"b".repeat(32), &id, true))
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let me = app.me(&token).await;
    assert!(me["real_name"].is_null(), "nothing stored by the refusals");
    let res = visitor
        .post("/me/identity", &fields(&visitor.csrf, &id, true))
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let page = visitor.text("/me/identity").await;
    assert!(page.contains("已完成实名认证") && page.contains("110105********"));
    assert!(!page.contains(&id), "never the full number");

    let page = visitor.text("/me/collection").await;
    assert!(page.contains("还没有藏品"));
    app.stop().await;
}

/// Served over HTTPS (a public URL starting `https://`, behind a TLS
/// proxy), every cookie carries the `__Host-` prefix and `Secure`, and a
/// cookie without the prefix — which a sibling subdomain could plant — is
/// not read.
#[tokio::test]
async fn over_https_cookies_are_host_prefixed_and_secure() {
    let app = TestApp::spawn_configured(|c| {
        c.site.public_url = Some("https://nft.example.cn".into());
    })
    .await;
    let page = Visitor::new(&app, "").get("/register").await;
    let cookie = header(&page, "set-cookie");
    assert!(
        cookie.starts_with("__Host-shucang_csrf=") && cookie.ends_with("; Secure"),
        "{cookie}"
    );
    let csrf = set_cookie_value(&page);
    let visitor = Visitor::new(&app, format!("__Host-shucang_csrf={csrf}"));
    let res = register_on_web(&visitor, &csrf, "13812345678", "Shucang#2026").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let session = header(&res, "set-cookie");
    assert!(
        session.starts_with("__Host-shucang_session=") && session.contains("; Secure"),
        "{session}"
    );
    let value = set_cookie_value(&res);
    let prefixed = Visitor::new(&app, format!("__Host-shucang_session={value}"));
    assert_eq!(
        prefixed.get("/me/collection").await.status(),
        StatusCode::OK
    );
    let planted = Visitor::new(&app, format!("shucang_session={value}"));
    let res = planted.get("/me/collection").await;
    assert_eq!(
        res.status(),
        StatusCode::SEE_OTHER,
        "an unprefixed cookie is not read"
    );
    // The form token cookie without the prefix does not count either.
    let unprefixed = Visitor::new(&app, format!("shucang_csrf={csrf}"));
    let res = unprefixed
        .post("/login", &credentials(&csrf, "13812345678", "Shucang#2026"))
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    app.stop().await;
}
