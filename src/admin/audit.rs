//! The *Audit log* page: who changed what, when and from where, filtered by actor and
//! action, a page at a time, with the same selection as CSV.

use leptos::prelude::*;
use leptos_meta::Title;

use super::frame::SignedIn;
use crate::audit::api::{audit_log, PAGE};
use crate::audit::AuditEntry;

/// The kinds of action, for the filter (the part before the dot).
const ACTIONS: &[(&str, &str)] = &[
    ("", "Every action"),
    ("sign_in", "Sign-ins (and failures)"),
    ("admin.", "Admins"),
    ("campaign.", "Campaigns"),
    ("message.", "Messages (API)"),
    ("subscriber.", "Subscribers"),
    ("topic.", "Topics"),
    ("template.", "Templates"),
    ("site.", "Sites"),
    ("vapid_key.", "VAPID keys"),
    ("api_key.", "API keys"),
];

#[component]
pub fn AuditPage() -> impl IntoView {
    view! {
        <Title text="Audit log"/>
        <SignedIn>
            <Audit/>
        </SignedIn>
    }
}

#[component]
fn Audit() -> impl IntoView {
    let actor = RwSignal::new(String::new());
    let action = RwSignal::new(String::new());
    // The pages read so far: each is the entries older than the last one shown.
    let before = RwSignal::new(None::<i64>);
    let entries = Resource::new(
        move || (actor.get(), action.get(), before.get()),
        |(actor, action, before)| audit_log(actor, action, before),
    );
    let export = move || {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("actor", &actor.get())
            .append_pair("action", &action.get())
            .finish();
        format!("/admin/audit.csv?{query}")
    };
    view! {
        <div class="page-head">
            <h1>"Audit log"</h1>
            <a class="btn" href=export download>"Export CSV"</a>
        </div>
        <p class="lead">
            "Every change made by an admin or an API key, and every sign-in attempt, with where it came from. "
            "Entries cannot be changed or deleted, from here or anywhere else in Tidings."
        </p>
        <section class="card" aria-labelledby="audit-heading">
            <h2 id="audit-heading" class="visually-hidden">"Entries"</h2>
            <form class="form filters" on:submit=|ev| ev.prevent_default()>
                <div class="row">
                    <div>
                        <label for="audit-actor">"Who"</label>
                        <input id="audit-actor" type="search" placeholder="admin alice, key 3…"
                            prop:value=move || actor.get()
                            on:input=move |ev| { before.set(None); actor.set(event_target_value(&ev)); }/>
                    </div>
                    <div>
                        <label for="audit-action">"What"</label>
                        <select id="audit-action" on:change=move |ev| { before.set(None); action.set(event_target_value(&ev)); }>
                            {ACTIONS.iter().map(|(value, label)| view! { <option value=*value>{*label}</option> }).collect_view()}
                        </select>
                    </div>
                </div>
            </form>
            <Transition fallback=|| view! { <p class="status">"Loading…"</p> }>
                {move || entries.get().map(|list| match list {
                    Ok(list) if list.is_empty() => view! { <p class="empty">"Nothing recorded matches."</p> }.into_any(),
                    Ok(list) => {
                        let older = (list.len() as i64 == PAGE).then(|| list.last().map(|e| e.id)).flatten();
                        view! {
                            <EntryTable list/>
                            <p class="more-link">
                                {before.get().is_some().then(|| view! {
                                    <button class="btn small" type="button" on:click=move |_| before.set(None)>"← Newest"</button>
                                })}
                                {older.map(|id| view! {
                                    <button class="btn small" type="button" on:click=move |_| before.set(Some(id))>"Older →"</button>
                                })}
                            </p>
                        }.into_any()
                    }
                    Err(error) => view! { <p class="status error" role="alert">{error.to_string()}</p> }.into_any(),
                })}
            </Transition>
        </section>
    }
}

#[component]
fn EntryTable(list: Vec<AuditEntry>) -> impl IntoView {
    view! {
        <table class="campaigns audit">
            <thead>
                <tr>
                    <th scope="col">"When"</th>
                    <th scope="col">"Who"</th>
                    <th scope="col">"What"</th>
                    <th scope="col">"Change"</th>
                </tr>
            </thead>
            <tbody>
                {list.into_iter().map(|e| {
                    let action = e.action.clone();
                    view! {
                    <tr data-action=action>
                        <td data-label="When"><div>{e.at}</div></td>
                        <td data-label="Who"><div>{e.actor} <span class="muted">{e.address.map(|a| format!(" from {a}"))}</span></div></td>
                        <td data-label="What"><div><code>{e.action}</code> " " {e.target}</div></td>
                        <td data-label="Change" class="change"><div>
                            <ul class="changes">
                                {changes(e.before.as_deref(), e.after.as_deref()).into_iter().map(|(field, before, after)| view! {
                                    <li>
                                        <span class="changed-field">{field}</span> ": "
                                        {before.map(|b| view! { <span class="before">{b}</span> " → " })}
                                        <span class="after">{after}</span>
                                    </li>
                                }).collect_view()}
                            </ul>
                        </div></td>
                    </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}

/// What changed, field by field: for an edit only the fields that differ (before, after);
/// otherwise the fields that were set. Empty values are left out.
fn changes(before: Option<&str>, after: Option<&str>) -> Vec<(String, Option<String>, String)> {
    use serde_json::{Map, Value};
    let parse = |text: Option<&str>| match text.and_then(|t| serde_json::from_str::<Value>(t).ok()) {
        Some(Value::Object(map)) => map,
        Some(other) => Map::from_iter([("value".to_owned(), other)]),
        None => Map::new(),
    };
    let shown = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let empty = |v: &Value| {
        matches!(v, Value::Null | Value::Bool(false))
            || v.as_str() == Some("")
            || v.as_array().is_some_and(Vec::is_empty)
    };
    let (before, after) = (parse(before), parse(after));
    after
        .iter()
        .filter_map(|(field, value)| match before.get(field) {
            Some(old) if old == value => None,
            Some(old) => Some((field.clone(), Some(shown(old)), shown(value))),
            None if before.is_empty() && empty(value) => None,
            None => Some((field.clone(), None, shown(value))),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::changes;

    #[test]
    fn an_edit_shows_only_what_changed_and_a_creation_what_was_set() {
        let before = r#"{"title":"First","body":"","ttl_secs":"86400"}"#;
        let after = r#"{"title":"Second","body":"","ttl_secs":"86400"}"#;
        assert_eq!(changes(Some(before), Some(after)), [("title".into(), Some("First".into()), "Second".into())]);
        let made = r#"{"name":"News","site":null,"scopes":["send"],"sites":[]}"#;
        assert_eq!(
            changes(None, Some(made)),
            [("name".into(), None, "News".into()), ("scopes".into(), None, r#"["send"]"#.into())]
        );
        assert!(changes(None, None).is_empty());
    }
}
