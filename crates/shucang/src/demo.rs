//! `serve --demo`: demo accounts (one per role), a real-named demo
//! collector, three approved works with generated images, and three drops —
//! seeded only into an empty platform, so a second start adds nothing.

use anyhow::Context as _;
use shucang_platform::{
    AccountError, Consent, Decision, DropDraft, IdentityError, RealName, Registration, WorkDraft,
};
use shucang_types::{IdNumber, Phone, Role, UnixMillis};

use crate::Application;

/// The password of every demo account.
pub const DEMO_PASSWORD: &str = "Demo#2026pass";

/// The demo accounts: one per role, phone numbers 1380000000N.
pub const DEMO_ACCOUNTS: [(&str, Role); 7] = [
    ("13800000001", Role::Collector),
    ("13800000002", Role::Creator),
    ("13800000003", Role::Reviewer),
    ("13800000004", Role::ServiceAgent),
    ("13800000005", Role::SystemAdmin),
    ("13800000006", Role::SecurityAdmin),
    ("13800000007", Role::AuditAdmin),
];

/// The demo collector's (fictitious, checksum-valid) identity.
const DEMO_COLLECTOR_NAME: &str = "演示用户";
const DEMO_COLLECTOR_ID: &str = "11010519900307123";

const DAY_MS: i64 = 86_400_000;

/// What seeding did.
#[derive(Debug, Default)]
pub struct Seeded {
    /// Accounts created now.
    pub accounts: usize,
    /// Whether works and drops were created now (false: already there).
    pub catalogue: bool,
}

/// Seeds the demo data that is not there yet.
pub async fn seed(app: &Application) -> anyhow::Result<Seeded> {
    let services = app.services();
    let mut seeded = Seeded::default();
    let mut ids = std::collections::HashMap::new();
    for (phone, role) in DEMO_ACCOUNTS {
        let phone = Phone::parse(phone).context("demo phone")?;
        let registration = Registration {
            phone: phone.clone(),
            password: DEMO_PASSWORD.to_owned(),
            role,
        };
        match services.accounts.register(registration).await {
            Ok(_) => seeded.accounts += 1,
            Err(AccountError::PhoneTaken) => {}
            Err(e) => return Err(e.into()),
        }
        let account = services
            .accounts
            .account_by_phone(&phone)
            .await?
            .context("demo account")?;
        ids.insert(role.as_str(), account.id);
    }
    // The demo collector is real-named, so it can buy at once.
    let collector = ids["collector"];
    let id_number = format!(
        "{DEMO_COLLECTOR_ID}{}",
        shucang_types::id_check_character(DEMO_COLLECTOR_ID.as_bytes()) as char
    );
    let today = services.identity.today();
    let id = IdNumber::parse(&id_number, today).context("demo ID number")?;
    let name = RealName::parse(DEMO_COLLECTOR_NAME).context("demo name")?;
    match services
        .identity
        .verify(
            collector,
            name,
            id,
            Consent {
                given: true,
                ip: "demo-seed".into(),
            },
        )
        .await
    {
        Ok(_) | Err(IdentityError::AlreadyVerified) => {}
        Err(e) => return Err(e.into()),
    }

    if !app.works().list(Role::Reviewer, None, 1).await?.is_empty() {
        return Ok(seeded);
    }
    let reviewer = ids["reviewer"];
    let works = [
        ("飞天", "敦煌莫高窟壁画中的飞天，衣带当风。", 1000, 205.0),
        ("九色鹿", "《鹿王本生图》中的九色鹿，限量珍藏。", 20, 35.0),
        ("千里江山", "青绿山水长卷意象，明日开售。", 500, 150.0),
    ];
    let mut approved = Vec::new();
    for (title, description, edition_size, hue) in works {
        let draft = WorkDraft {
            title: title.into(),
            description: description.into(),
            edition_size,
            issuer: "数藏示范工作室".into(),
            copyright_evidence: "演示数据（非真实登记号）".into(),
            image: gradient_png(256, 256, hue),
        };
        // Submitted by the system administrator, approved by the reviewer:
        // no one approves their own submission.
        let work = app
            .works()
            .submit(Role::SystemAdmin, ids["system_admin"], draft)
            .await?;
        app.works()
            .review(Role::Reviewer, reviewer, work.id, Decision::Approve)
            .await?;
        approved.push(work);
    }
    let admin = ids["system_admin"];
    let now = app.clock_now();
    let tomorrow_evening = china_day_start(now).plus_ms(DAY_MS + 20 * 3_600_000);
    // One drop of all its editions per work: two on sale now for a month,
    // one opening tomorrow evening.
    let on_sale_now = (now.plus_ms(-60_000), now.plus_ms(30 * DAY_MS));
    let from_tomorrow = (tomorrow_evening, tomorrow_evening.plus_ms(7 * DAY_MS));
    let drops = [
        ("飞天 · 首发（先到先得，每人限购5）", 990, on_sale_now, 5),
        ("九色鹿 · 小批量（共20份，每人限购1）", 1990, on_sale_now, 1),
        ("千里江山 · 明晚20:00开售", 2990, from_tomorrow, 2),
    ];
    for (work, (title, price_fen, (starts_at, ends_at), per_user_limit)) in
        approved.iter().zip(drops)
    {
        let draft = DropDraft {
            work_id: work.id,
            title: title.into(),
            price_fen,
            supply: work.work.edition_size,
            starts_at,
            ends_at,
            per_user_limit,
        };
        app.drops().create(Role::SystemAdmin, admin, draft).await?;
    }
    seeded.catalogue = true;
    Ok(seeded)
}

/// Midnight (China time) of the day `t` falls on.
fn china_day_start(t: UnixMillis) -> UnixMillis {
    let days = t.china_date().days_since_epoch();
    UnixMillis(days * DAY_MS - 8 * 3_600_000)
}

/// A `width`×`height` RGB PNG: a diagonal gradient around `hue` (degrees).
pub fn gradient_png(width: u32, height: u32, hue: f64) -> Vec<u8> {
    let mut raw = Vec::with_capacity(((width * 3 + 1) * height) as usize);
    for y in 0..height {
        raw.push(0); // filter: none
        for x in 0..width {
            let t = f64::from(x + y) / f64::from(width + height);
            let [r, g, b] = hsl_to_rgb(hue + 40.0 * t, 0.55, 0.35 + 0.35 * t);
            raw.extend_from_slice(&[r, g, b]);
        }
    }
    let mut ihdr = Vec::with_capacity(13);
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]); // 8-bit RGB, no interlace
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    chunk(&mut png, b"IHDR", &ihdr);
    chunk(&mut png, b"IDAT", &zlib_stored(&raw));
    chunk(&mut png, b"IEND", &[]);
    png
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let mut crc = crc32fast::Hasher::new();
    crc.update(kind);
    crc.update(data);
    out.extend_from_slice(&crc.finalize().to_be_bytes());
}

/// A zlib stream of uncompressed (stored) deflate blocks: images for a demo
/// need no compression, and this keeps a compressor out of the build.
fn zlib_stored(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x78, 0x01];
    let blocks: Vec<&[u8]> = data.chunks(65_535).collect();
    for (i, block) in blocks.iter().enumerate() {
        out.push(u8::from(i + 1 == blocks.len()));
        let len = block.len() as u16;
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(block);
    }
    let (mut a, mut b) = (1u32, 0u32);
    for &byte in data {
        a = (a + u32::from(byte)) % 65_521;
        b = (b + a) % 65_521;
    }
    out.extend_from_slice(&((b << 16) | a).to_be_bytes());
    out
}

fn hsl_to_rgb(h: f64, s: f64, l: f64) -> [u8; 3] {
    let h = h.rem_euclid(360.0) / 60.0;
    let c = (1.0 - (2.0 * l - 1.0).abs()) * s;
    let x = c * (1.0 - (h % 2.0 - 1.0).abs());
    let (r, g, b) = match h as u32 {
        0 => (c, x, 0.0),
        1 => (x, c, 0.0),
        2 => (0.0, c, x),
        3 => (0.0, x, c),
        4 => (x, 0.0, c),
        _ => (c, 0.0, x),
    };
    let m = l - c / 2.0;
    let to = |v: f64| ((v + m) * 255.0).round().clamp(0.0, 255.0) as u8;
    [to(r), to(g), to(b)]
}
