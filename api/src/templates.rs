//! The texts people read, from templates (`api/templates`): mails and documents, in
//! English and Russian, built into the binary or read from `TEMPLATES_DIR` (an edited
//! copy) instead.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;

use domain::locale::Locale;
use minijinja::Environment;
use serde::Serialize;

use crate::error::ApiResult;

pub struct Templates {
    mail: Environment<'static>,
    /// Documents write layout markup (see [`crate::documents`]): every value a template
    /// inserts is escaped for it, so a customer's text stays text.
    documents: Environment<'static>,
    /// Pages are HTML: every value is escaped for it.
    pages: Environment<'static>,
    /// Each language's page words, parsed on first use (templates do not change while the
    /// server runs: the environment keeps what it loaded).
    words_cache: Mutex<HashMap<&'static str, minijinja::Value>>,
}

impl Templates {
    pub fn new(dir: Option<&Path>) -> Self {
        let mut mail = environment(dir);
        // Mails are plain text: nothing to escape.
        mail.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
        let mut documents = environment(dir);
        documents.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
        documents.set_formatter(|out, _state, value| {
            if value.is_none() || value.is_undefined() {
                return Ok(());
            }
            let text = match value.as_str() {
                Some(s) => crate::documents::escape(s),
                None => crate::documents::escape(&value.to_string()),
            };
            out.write_str(&text).map_err(minijinja::Error::from)
        });
        let mut pages = environment(dir);
        pages.set_auto_escape_callback(|name| {
            if name.ends_with(".html") {
                minijinja::AutoEscape::Html
            } else {
                minijinja::AutoEscape::None
            }
        });
        Self {
            mail,
            documents,
            pages,
            words_cache: Mutex::default(),
        }
    }

    /// Page `name` (`pages/<name>.html`) in `locale`: the page reads its words from `t`
    /// (`pages/words/<locale>.json`), so one markup serves every language.
    pub fn page(&self, name: &str, locale: Locale, ctx: minijinja::Value) -> ApiResult<String> {
        let words = self.page_words(locale)?;
        let name = format!("pages/{name}.html");
        let ctx = minijinja::context! { t => words, lang => locale.as_str(), ..ctx };
        Ok(self
            .pages
            .get_template(&name)
            .and_then(|t| t.render(ctx))
            .map_err(|e| anyhow::anyhow!("page `{name}`: {e}"))?)
    }

    /// The subject and body of mail `template` in `locale`, English when that language has
    /// no such template.
    pub fn render(
        &self,
        template: &str,
        locale: Locale,
        ctx: &impl Serialize,
    ) -> ApiResult<(String, String)> {
        let name = format!("mail/{}/{template}.txt", locale.as_str());
        let tmpl = match self.mail.get_template(&name) {
            Ok(t) => t,
            Err(_) => self
                .mail
                .get_template(&format!("mail/en/{template}.txt"))
                .map_err(|e| anyhow::anyhow!("no mail template `{template}`: {e}"))?,
        };
        let mut captured = tmpl
            .render_captured(ctx)
            .map_err(|e| anyhow::anyhow!("mail template `{name}`: {e}"))?;
        let subject = captured
            .with_state_mut(|state| state.render_block("subject"))
            .map_err(|e| anyhow::anyhow!("subject of `{name}`: {e}"))?;
        let body = captured
            .with_state_mut(|state| state.render_block("body"))
            .map_err(|e| anyhow::anyhow!("body of `{name}`: {e}"))?;
        Ok((subject.trim().to_owned(), tidy(&body)))
    }

    /// The title and layout markup of document `template` in `locale`.
    pub fn document(
        &self,
        template: &str,
        locale: Locale,
        ctx: &impl Serialize,
    ) -> ApiResult<(String, String)> {
        let name = format!("documents/{}/{template}.txt", locale.as_str());
        let tmpl = self
            .documents
            .get_template(&name)
            .map_err(|e| anyhow::anyhow!("no document template `{name}`: {e}"))?;
        let mut captured = tmpl
            .render_captured(ctx)
            .map_err(|e| anyhow::anyhow!("document template `{name}`: {e}"))?;
        let title = captured
            .with_state_mut(|state| state.render_block("title"))
            .map_err(|e| anyhow::anyhow!("title of `{name}`: {e}"))?;
        let body = captured
            .with_state_mut(|state| state.render_block("body"))
            .map_err(|e| anyhow::anyhow!("body of `{name}`: {e}"))?;
        Ok((title.trim().to_owned(), body))
    }
}

impl Templates {
    /// The words of the pages in `locale`.
    fn page_words(&self, locale: Locale) -> ApiResult<minijinja::Value> {
        let lang = locale.as_str();
        if let Some(words) = self
            .words_cache
            .lock()
            .ok()
            .and_then(|w| w.get(lang).cloned())
        {
            return Ok(words);
        }
        let words = minijinja::Value::from_serialize(self.page_words_json(locale)?);
        if let Ok(mut cache) = self.words_cache.lock() {
            cache.insert(lang, words.clone());
        }
        Ok(words)
    }

    fn page_words_json(&self, locale: Locale) -> ApiResult<serde_json::Value> {
        let name = format!("pages/words/{}.json", locale.as_str());
        let text = self
            .pages
            .get_template(&name)
            .and_then(|t| t.render(()))
            .map_err(|e| anyhow::anyhow!("page words `{name}`: {e}"))?;
        Ok(serde_json::from_str(&text).map_err(|e| anyhow::anyhow!("page words `{name}`: {e}"))?)
    }

    /// The words of chart `template` in `locale`: each named block, rendered.
    pub fn chart_words(
        &self,
        template: &str,
        locale: Locale,
        blocks: &[&str],
        ctx: &impl Serialize,
    ) -> ApiResult<Vec<String>> {
        let name = format!("charts/{}/{template}.txt", locale.as_str());
        let tmpl = self
            .mail
            .get_template(&name)
            .map_err(|e| anyhow::anyhow!("no chart template `{name}`: {e}"))?;
        let mut captured = tmpl
            .render_captured(ctx)
            .map_err(|e| anyhow::anyhow!("chart template `{name}`: {e}"))?;
        blocks
            .iter()
            .map(|block| {
                captured
                    .with_state_mut(|state| state.render_block(block))
                    .map(|text| text.trim().to_owned())
                    .map_err(|e| anyhow::anyhow!("block `{block}` of `{name}`: {e}").into())
            })
            .collect()
    }
}

fn environment(dir: Option<&Path>) -> Environment<'static> {
    let mut env = Environment::new();
    match dir {
        Some(dir) => env.set_loader(minijinja::path_loader(dir)),
        None => load_embedded(&mut env),
    }
    env.set_keep_trailing_newline(true);
    env
}

#[allow(clippy::unwrap_used, clippy::expect_used)]
fn load_embedded(mut env: &mut Environment<'static>) {
    // The generated loader unwraps what the build already checked: templates that do not
    // parse fail the build, not the server.
    minijinja_embed::load_templates!(env);
}

/// Trims the template's margins and collapses the blank lines that its tags leave.
fn tidy(text: &str) -> String {
    let mut out = String::new();
    let mut blank = 0;
    for line in text.trim().lines().map(str::trim_end) {
        if line.is_empty() {
            blank += 1;
            if blank > 1 {
                continue;
            }
        } else {
            blank = 0;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    /// Every key path of a JSON object, `a.b.c`.
    fn key_paths(value: &serde_json::Value, prefix: &str, out: &mut Vec<String>) {
        if let Some(map) = value.as_object() {
            for (key, inner) in map {
                let path = format!("{prefix}{key}");
                key_paths(inner, &format!("{path}."), out);
                out.push(path);
            }
        }
    }

    #[test]
    fn every_page_word_exists_in_every_language() {
        let templates = Templates::new(None);
        let mut english = Vec::new();
        key_paths(
            &templates.page_words_json(Locale::En).unwrap(),
            "",
            &mut english,
        );
        let mut russian = Vec::new();
        key_paths(
            &templates.page_words_json(Locale::Ru).unwrap(),
            "",
            &mut russian,
        );
        english.sort();
        russian.sort();
        assert!(english.len() > 100);
        assert_eq!(english, russian);
    }
}
