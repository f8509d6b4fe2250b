//! The collectible certificate (数字藏品证书) as a PNG image.
//!
//! The web crate fills a [`Certificate`] with already-translated labels and
//! values; [`render`] lays them out on a fixed A4-proportioned canvas with
//! a border, the heading, one row per field (long values such as hashes
//! wrap), the QR code of the token's explorer page and footer lines, and
//! encodes the result as PNG.
//!
//! Chinese text needs a CJK font, which is not something to embed in the
//! binary (tens of megabytes) — the operator names one ([`FontSource`]),
//! or [`FontSource::detect`] finds a common system one. A [`LazyFont`]
//! reads it on first use, so a server that never draws a certificate never
//! holds the font in memory.
//!
//! ```no_run
//! use shucang_certificate::{Certificate, FontSource, LazyFont, render};
//! let font = LazyFont::new(FontSource::detect().expect("a CJK font"));
//! let cert = Certificate {
//!     site: "某某数藏".into(),
//!     heading: "数字藏品证书".into(),
//!     intro: "兹证明下列数字藏品登记于区块链上".into(),
//!     rows: vec![("作品".into(), "飞天".into())],
//!     qr_url: "https://nft.example.cn/explorer/tokens/feitian/1".into(),
//!     qr_caption: "扫码在区块浏览器中查看".into(),
//!     footer: vec!["区块链信息服务备案编号：未配置".into()],
//! };
//! let png: Vec<u8> = render(font.get().unwrap(), &cert).unwrap();
//! ```
//!
//! **Architecture invariant:** no HTTP, no storage, no translations; the
//! only I/O is reading the font file.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use ab_glyph::{Font as _, FontArc, PxScale, ScaleFont as _, point};

/// Canvas width in pixels (A4 at about 145 dpi).
pub const WIDTH_PX: u32 = 1200;
/// Canvas height in pixels.
pub const HEIGHT_PX: u32 = 1700;
/// Most rows a certificate holds; more would run off the canvas.
pub const ROWS_MAX: usize = 16;
/// Longest text accepted in any one field, in characters.
pub const TEXT_CHARS_MAX: usize = 400;

/// Where a font comes from: a TrueType/OpenType file or collection, and
/// the face's index inside a collection (`.ttc`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FontSource {
    /// The font file.
    pub path: PathBuf,
    /// The face inside a collection; 0 for a single font.
    pub index: u32,
}

/// Well-known places of CJK fonts on Linux distributions, with the face
/// that holds Simplified Chinese glyph shapes (Noto's collections order
/// their faces JP, KR, SC, TC, HK).
const KNOWN_FONTS: &[(&str, u32)] = &[
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc", 2),
    (
        "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
        2,
    ),
    ("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc", 2),
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
    (
        "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
        0,
    ),
];

impl FontSource {
    /// The first well-known CJK font present on this machine, if any.
    pub fn detect() -> Option<FontSource> {
        KNOWN_FONTS
            .iter()
            .find(|(path, _)| Path::new(path).is_file())
            .map(|(path, index)| FontSource {
                path: PathBuf::from(path),
                index: *index,
            })
    }

    /// Reads and checks the font: it must parse and must have glyphs for
    /// Chinese text.
    pub fn load(&self) -> Result<Font, Error> {
        let bytes = std::fs::read(&self.path).map_err(|e| Error::FontRead {
            path: self.path.clone(),
            reason: e.to_string(),
        })?;
        let face = ab_glyph::FontVec::try_from_vec_and_index(bytes, self.index).map_err(|_| {
            Error::FontInvalid {
                path: self.path.clone(),
                index: self.index,
            }
        })?;
        // The certificate's own heading must be drawable.
        if "数字藏品证书".chars().any(|ch| face.glyph_id(ch).0 == 0) {
            return Err(Error::FontNotChinese {
                path: self.path.clone(),
            });
        }
        Ok(Font(FontArc::new(face)))
    }
}

/// A loaded font with Chinese glyphs.
#[derive(Clone)]
pub struct Font(FontArc);

impl std::fmt::Debug for Font {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Font")
    }
}

/// A font read on first use and kept afterwards; cheap to clone.
#[derive(Debug, Clone)]
pub struct LazyFont {
    source: FontSource,
    loaded: Arc<OnceLock<Result<Font, Error>>>,
}

impl LazyFont {
    /// A font that will be read from `source` when first needed.
    pub fn new(source: FontSource) -> LazyFont {
        LazyFont {
            source,
            loaded: Arc::new(OnceLock::new()),
        }
    }

    /// Where the font comes from.
    pub fn source(&self) -> &FontSource {
        &self.source
    }

    /// The font, reading it the first time.
    pub fn get(&self) -> Result<&Font, Error> {
        self.loaded
            .get_or_init(|| self.source.load())
            .as_ref()
            .map_err(Clone::clone)
    }
}

/// What a certificate shows, already in the reader's language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certificate {
    /// The platform's name, above the heading.
    pub site: String,
    /// The heading (数字藏品证书).
    pub heading: String,
    /// One line under the heading.
    pub intro: String,
    /// Label and value of each field, in order (at most [`ROWS_MAX`]).
    pub rows: Vec<(String, String)>,
    /// The URL the QR code encodes.
    pub qr_url: String,
    /// The line under the QR code (the URL itself is printed after it).
    pub qr_caption: String,
    /// Lines at the foot (filing number, no-trading notice).
    pub footer: Vec<String>,
}

/// Why a certificate could not be drawn.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The font file could not be read.
    #[error("cannot read the font {path}: {reason}")]
    FontRead {
        /// The file.
        path: PathBuf,
        /// The operating system's reason.
        reason: String,
    },
    /// The file is not a font, or has no face at that index.
    #[error("{path} has no usable font face at index {index}")]
    FontInvalid {
        /// The file.
        path: PathBuf,
        /// The face asked for.
        index: u32,
    },
    /// The font cannot draw Chinese.
    #[error("the font {path} has no glyphs for Chinese text")]
    FontNotChinese {
        /// The file.
        path: PathBuf,
    },
    /// More rows or longer text than the canvas holds.
    #[error("the certificate has too much content: {0}")]
    TooLong(&'static str),
    /// The URL does not fit in a QR code.
    #[error("the URL is too long for a QR code")]
    QrTooLong,
    /// PNG encoding failed (a bug: writing to memory cannot fail otherwise).
    #[error("PNG encoding failed: {0}")]
    Encode(String),
}

type Rgb = [u8; 3];

const PAPER: Rgb = [0xff, 0xfc, 0xf5];
const INK: Rgb = [0x1f, 0x1f, 0x1f];
const MUTED: Rgb = [0x6b, 0x6b, 0x6b];
const SEAL: Rgb = [0x9b, 0x1c, 0x1c];

const MARGIN_PX: f32 = 96.0;
const LABEL_WIDTH_PX: f32 = 250.0;
const ROW_GAP_PX: f32 = 14.0;
const QR_SIDE_PX: u32 = 300;

/// An RGB canvas.
struct Canvas {
    width: u32,
    height: u32,
    pixels: Vec<u8>,
}

impl Canvas {
    fn new(width: u32, height: u32, color: Rgb) -> Canvas {
        let pixels = color.repeat((width * height) as usize);
        Canvas {
            width,
            height,
            pixels,
        }
    }

    /// Blends `color` over the pixel at (x, y) with coverage `alpha`.
    fn blend(&mut self, x: i64, y: i64, color: Rgb, alpha: f32) {
        if x < 0 || y < 0 || x >= i64::from(self.width) || y >= i64::from(self.height) {
            return;
        }
        let alpha = alpha.clamp(0.0, 1.0);
        let at = ((y as u64 * u64::from(self.width) + x as u64) * 3) as usize;
        for (channel, ink) in self.pixels[at..at + 3].iter_mut().zip(color) {
            let mixed = f32::from(*channel) * (1.0 - alpha) + f32::from(ink) * alpha;
            *channel = mixed.round() as u8;
        }
    }

    fn fill(&mut self, x: u32, y: u32, w: u32, h: u32, color: Rgb) {
        for yy in y..(y + h).min(self.height) {
            for xx in x..(x + w).min(self.width) {
                self.blend(i64::from(xx), i64::from(yy), color, 1.0);
            }
        }
    }

    /// A rectangle outline `thickness` pixels wide, inset `inset` pixels.
    fn frame(&mut self, inset: u32, thickness: u32, color: Rgb) {
        let (w, h) = (self.width - 2 * inset, self.height - 2 * inset);
        self.fill(inset, inset, w, thickness, color);
        self.fill(inset, inset + h - thickness, w, thickness, color);
        self.fill(inset, inset, thickness, h, color);
        self.fill(inset + w - thickness, inset, thickness, h, color);
    }

    fn png(&self) -> Result<Vec<u8>, Error> {
        let mut out = Vec::new();
        let mut encoder = png::Encoder::new(&mut out, self.width, self.height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        encoder.set_compression(png::Compression::Fast);
        let mut writer = encoder
            .write_header()
            .map_err(|e| Error::Encode(e.to_string()))?;
        writer
            .write_image_data(&self.pixels)
            .map_err(|e| Error::Encode(e.to_string()))?;
        writer.finish().map_err(|e| Error::Encode(e.to_string()))?;
        Ok(out)
    }
}

/// Text drawing with one font.
struct Pen<'a> {
    font: &'a FontArc,
}

impl Pen<'_> {
    /// Width of `text` at `size` pixels.
    fn width(&self, text: &str, size: f32) -> f32 {
        let scaled = self.font.as_scaled(PxScale::from(size));
        let mut previous = None;
        let mut width = 0.0;
        for ch in text.chars() {
            let id = scaled.glyph_id(ch);
            if let Some(p) = previous {
                width += scaled.kern(p, id);
            }
            width += scaled.h_advance(id);
            previous = Some(id);
        }
        width
    }

    /// Splits `text` into lines no wider than `max_px` (by character, so
    /// hashes and Chinese both wrap; Latin words break where they must).
    fn wrap(&self, text: &str, size: f32, max_px: f32) -> Vec<String> {
        let mut lines = Vec::new();
        let mut line = String::new();
        for ch in text.chars() {
            line.push(ch);
            if self.width(&line, size) > max_px && line.chars().count() > 1 {
                line.pop();
                lines.push(std::mem::take(&mut line));
                line.push(ch);
            }
        }
        if !line.is_empty() || lines.is_empty() {
            lines.push(line);
        }
        lines
    }

    /// Draws one line with its baseline at `baseline`, starting at `x`.
    fn line(&self, canvas: &mut Canvas, text: &str, size: f32, x: f32, baseline: f32, color: Rgb) {
        let scale = PxScale::from(size);
        let scaled = self.font.as_scaled(scale);
        let mut caret = x;
        let mut previous = None;
        for ch in text.chars() {
            let id = scaled.glyph_id(ch);
            if let Some(p) = previous {
                caret += scaled.kern(p, id);
            }
            let glyph = id.with_scale_and_position(scale, point(caret, baseline));
            caret += scaled.h_advance(id);
            previous = Some(id);
            if let Some(outline) = self.font.outline_glyph(glyph) {
                let bounds = outline.px_bounds();
                outline.draw(|gx, gy, coverage| {
                    canvas.blend(
                        bounds.min.x as i64 + i64::from(gx),
                        bounds.min.y as i64 + i64::from(gy),
                        color,
                        coverage,
                    );
                });
            }
        }
    }

    /// Draws a line centred on the canvas.
    fn centred(&self, canvas: &mut Canvas, text: &str, size: f32, baseline: f32, color: Rgb) {
        let x = (canvas.width as f32 - self.width(text, size)) / 2.0;
        self.line(canvas, text, size, x.max(MARGIN_PX), baseline, color);
    }

    /// The distance between baselines at `size`.
    fn line_height(&self, size: f32) -> f32 {
        let scaled = self.font.as_scaled(PxScale::from(size));
        (scaled.ascent() - scaled.descent() + scaled.line_gap()).max(size)
    }
}

/// Draws `cert` with `font` and encodes it as PNG.
pub fn render(font: &Font, cert: &Certificate) -> Result<Vec<u8>, Error> {
    if cert.rows.len() > ROWS_MAX {
        return Err(Error::TooLong("too many rows"));
    }
    let texts = [
        &cert.site,
        &cert.heading,
        &cert.intro,
        &cert.qr_url,
        &cert.qr_caption,
    ];
    let too_long = |s: &String| s.chars().count() > TEXT_CHARS_MAX;
    if texts.into_iter().any(too_long)
        || cert.rows.iter().any(|(l, v)| too_long(l) || too_long(v))
        || cert.footer.iter().any(too_long)
        || cert.footer.len() > 4
    {
        return Err(Error::TooLong("a text is too long"));
    }
    let qr =
        qrcode::QrCode::with_error_correction_level(cert.qr_url.as_bytes(), qrcode::EcLevel::M)
            .map_err(|_| Error::QrTooLong)?;

    let mut canvas = Canvas::new(WIDTH_PX, HEIGHT_PX, PAPER);
    canvas.frame(28, 8, SEAL);
    canvas.frame(46, 2, SEAL);
    let pen = Pen { font: &font.0 };
    let right = WIDTH_PX as f32 - MARGIN_PX;

    let mut y = 170.0;
    pen.centred(&mut canvas, &cert.site, 30.0, y, MUTED);
    y += 92.0;
    pen.centred(&mut canvas, &cert.heading, 72.0, y, SEAL);
    y += 62.0;
    for line in pen.wrap(&cert.intro, 26.0, right - MARGIN_PX) {
        pen.centred(&mut canvas, &line, 26.0, y, INK);
        y += pen.line_height(26.0);
    }
    y += 24.0;
    canvas.fill(
        MARGIN_PX as u32,
        y as u32,
        (right - MARGIN_PX) as u32,
        2,
        SEAL,
    );
    y += 56.0;

    let (size, value_x) = (26.0, MARGIN_PX + LABEL_WIDTH_PX);
    for (label, value) in &cert.rows {
        pen.line(&mut canvas, label, size, MARGIN_PX, y, MUTED);
        let lines = pen.wrap(value, size, right - value_x);
        for (i, line) in lines.iter().enumerate() {
            if i > 0 {
                y += pen.line_height(size);
            }
            pen.line(&mut canvas, line, size, value_x, y, INK);
        }
        y += pen.line_height(size) + ROW_GAP_PX;
    }

    // The QR code, centred, then its caption and URL; the footer sits at
    // the bottom whatever the rows took, and the QR code moves up to fit.
    let footer_top = HEIGHT_PX as f32 - 96.0 - pen.line_height(22.0) * cert.footer.len() as f32;
    let url_lines = pen.wrap(&cert.qr_url, 20.0, right - MARGIN_PX);
    let caption_px = pen.line_height(24.0) + pen.line_height(20.0) * url_lines.len() as f32;
    let modules = qr.width() as u32 + 8;
    let module_px = (QR_SIDE_PX / modules).max(2);
    let side = module_px * modules;
    let qr_top = (y + 10.0)
        .min(footer_top - caption_px - side as f32 - 30.0)
        .max(y);
    let qr_left = (WIDTH_PX - side) / 2;
    canvas.fill(qr_left, qr_top as u32, side, side, [0xff, 0xff, 0xff]);
    let colors = qr.to_colors();
    let width = qr.width();
    for (i, color) in colors.iter().enumerate() {
        if *color == qrcode::Color::Dark {
            let (mx, my) = ((i % width) as u32 + 4, (i / width) as u32 + 4);
            canvas.fill(
                qr_left + mx * module_px,
                qr_top as u32 + my * module_px,
                module_px,
                module_px,
                [0, 0, 0],
            );
        }
    }
    let mut y = qr_top + side as f32 + 40.0;
    pen.centred(&mut canvas, &cert.qr_caption, 24.0, y, INK);
    for line in url_lines {
        y += pen.line_height(20.0);
        pen.centred(&mut canvas, &line, 20.0, y, MUTED);
    }

    let mut y = footer_top.max(y + 30.0);
    for line in &cert.footer {
        y += pen.line_height(22.0);
        pen.centred(&mut canvas, line, 22.0, y, MUTED);
    }
    canvas.png()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Certificate {
        Certificate {
            site: "测试数藏".into(),
            heading: "数字藏品证书".into(),
            intro: "兹证明下列数字藏品登记于区块链上".into(),
            rows: vec![
                ("作品".into(), "敦煌·飞天".into()),
                ("版号".into(), "#12/1000".into()),
                ("交易哈希".into(), "ab".repeat(32)),
            ],
            qr_url: "https://nft.example.cn/explorer/tokens/feitian/12".into(),
            qr_caption: "扫码在区块浏览器中查看".into(),
            footer: vec!["区块链信息服务备案编号：未配置".into()],
        }
    }

    #[test]
    fn a_missing_or_wrong_font_is_a_clear_error() {
        let missing = FontSource {
            path: "/nonexistent/font.ttc".into(),
            index: 0,
        };
        assert!(matches!(missing.load(), Err(Error::FontRead { .. })));
        let not_a_font = FontSource {
            path: Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"),
            index: 0,
        };
        assert!(matches!(not_a_font.load(), Err(Error::FontInvalid { .. })));
    }

    /// Needs a CJK font on the machine (CI installs fonts-noto-cjk).
    #[test]
    fn draws_a_png_with_text_and_a_qr_code() {
        let Some(source) = FontSource::detect() else {
            eprintln!("skipping: no CJK font installed (fonts-noto-cjk)");
            return;
        };
        let font = LazyFont::new(source);
        let png = render(font.get().unwrap(), &sample()).unwrap();
        let decoder = png::Decoder::new(png.as_slice());
        let mut reader = decoder.read_info().unwrap();
        let mut pixels = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut pixels).unwrap();
        assert_eq!((info.width, info.height), (WIDTH_PX, HEIGHT_PX));
        // Ink was laid down: dark pixels (text and QR modules) and seal red.
        let dark = pixels
            .chunks(3)
            .filter(|p| p.iter().all(|c| *c < 60))
            .count();
        let red = pixels.chunks(3).filter(|p| p == &SEAL).count();
        assert!(dark > 20_000, "{dark} dark pixels");
        assert!(red > 30_000, "{red} seal-red pixels");

        let mut crowded = sample();
        crowded.rows = vec![("x".into(), "y".into()); ROWS_MAX + 1];
        assert!(matches!(
            render(font.get().unwrap(), &crowded),
            Err(Error::TooLong(_))
        ));
        let mut long = sample();
        long.qr_url = "h".repeat(TEXT_CHARS_MAX + 1);
        assert!(render(font.get().unwrap(), &long).is_err());
    }
}
