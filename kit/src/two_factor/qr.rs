//! The set-up QR code as an inline SVG, made on the server: no script and no image request, so
//! the page's Content-Security-Policy stays as strict as it is.

use qrcode::render::svg;
use qrcode::QrCode;

/// The QR code of `text` (an `otpauth://` URL) as an `<svg>` element, or `None` should the text
/// be too long for a QR code. It carries only the secret's URL: show it to its user alone.
pub fn qr_svg(text: &str) -> Option<String> {
    let code = QrCode::new(text.as_bytes()).ok()?;
    let image = code
        .render::<svg::Color<'_>>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build();
    // The renderer writes a whole document; the page wants the element alone, and a viewBox so
    // that the stylesheet can size it.
    let svg = &image[image.find("<svg")?..];
    let size = |attr: &str| -> Option<&str> {
        let start = svg.find(&format!(" {attr}=\""))? + attr.len() + 3;
        Some(&svg[start..start + svg[start..].find('"')?])
    };
    let view_box = format!(
        "<svg viewBox=\"0 0 {} {}\"",
        size("width")?,
        size("height")?
    );
    Some(svg.replacen("<svg", &view_box, 1))
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_otpauth_url_becomes_an_svg_element() {
        let svg = super::qr_svg("otpauth://totp/app:alice?secret=ABC").unwrap();
        assert!(
            svg.starts_with("<svg viewBox=\"0 0 ") && svg.ends_with("</svg>"),
            "{svg}"
        );
        assert!(!svg.contains("style") && !svg.contains("<script"));
    }
}
