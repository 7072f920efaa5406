//! Markdown for notices and the help page, rendered safely: raw HTML is shown as text and only
//! http(s), mailto, tel and site-relative links are kept.

use pulldown_cmark::{html, CowStr, Event, Options, Parser, Tag};

fn safe_url(url: &str) -> bool {
    let u = url.trim().to_ascii_lowercase();
    u.starts_with("http://")
        || u.starts_with("https://")
        || u.starts_with("mailto:")
        || u.starts_with("tel:")
        || (u.starts_with('/') && !u.starts_with("//"))
        || u.starts_with('#')
}

pub fn render(text: &str) -> String {
    let parser = Parser::new_ext(text, Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH);
    let events = parser.map(|e| match e {
        Event::Html(s) | Event::InlineHtml(s) => Event::Text(s),
        Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        }) if !safe_url(&dest_url) => Event::Start(Tag::Link {
            link_type,
            dest_url: CowStr::from(""),
            title,
            id,
        }),
        Event::Start(Tag::Image { .. }) => Event::Text(CowStr::from("")),
        Event::End(pulldown_cmark::TagEnd::Image) => Event::Text(CowStr::from("")),
        other => other,
    });
    let mut out = String::new();
    html::push_html(&mut out, events);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_is_shown_as_text() {
        let out = render("你好<script>alert(1)</script>");
        assert!(!out.contains("<script>"), "{out}");
        assert!(out.contains("&lt;script&gt;"), "{out}");
    }

    #[test]
    fn javascript_links_lose_their_target() {
        let out =
            render("[点我](javascript:alert(1)) [帮助](/help) [外部](https://example.gov.cn)");
        assert!(!out.to_lowercase().contains("javascript:"), "{out}");
        assert!(out.contains("href=\"/help\""));
        assert!(out.contains("href=\"https://example.gov.cn\""));
    }

    #[test]
    fn headings_and_lists_render() {
        let out = render("## 注册\n\n- 第一步\n- 第二步\n");
        assert!(out.contains("<h2>注册</h2>"));
        assert!(out.contains("<li>第一步</li>"));
    }
}
