//! Export every subscription (JSON or CSV, keys included, streamed) and import them back,
//! from Tidings or another tool: this is how people migrate. Plain axum routes rather
//! than server functions, because both move whole files.
//!
//! Accepted on import: a JSON array of PushSubscription objects (`{"endpoint", "keys":
//! {"p256dh", "auth"}}`, as `JSON.stringify(subscription)` gives, optionally with
//! `"topics": ["name", …]` and `"applicationServerKey"`), the same objects one per line, or
//! CSV with a header naming `endpoint`, `p256dh`, `auth` and optionally `topics` (names
//! separated by `|`) and `application_server_key`. The key, where given, is the VAPID
//! public key the browser subscribed with; it must be one of Tidings' keys that is not
//! retired. Rows without one get the key the import names (or the current key).

use std::io::{BufRead, BufReader, Read};

use axum::body::{Body, Bytes};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures::stream::{self, StreamExt};
use serde::Deserializer as _;
use serde_json::{json, Value};
use tokio_util::io::{StreamReader, SyncIoBridge};
use tower_sessions::Session;

use super::list::{ImportProblem, ImportReport};
use super::parse::{EndpointPolicy, NewSubscription};
use crate::error::ssr::internal;
use crate::error::AppError;
use crate::session::{admin_of, SignedInAdmin};
use crate::state::AppState;
use crate::store::{ExportRow, ImportRow, Imported, Store};
use crate::topic::TopicName;

/// The largest import accepted: about nine million subscriptions as JSON. The file is
/// read as it arrives, so this bounds the upload, not memory.
pub const MAX_IMPORT_BYTES: usize = 2 * 1024 * 1024 * 1024;
/// Rows per export query and per import transaction.
const CHUNK: usize = 1000;
const MAX_PROBLEMS: usize = 100;

#[derive(Debug, Clone, Copy)]
pub enum Format {
    Json,
    Csv,
}

/// `GET /admin/subscribers/export.{json,csv}`: every subscription, streamed a chunk at a time.
pub async fn export(state: AppState, session: Session, format: Format) -> Response {
    if let Err(refused) = require_admin(&state, &session).await {
        return refused.into_response();
    }
    let (content_type, file, head, tail) = match format {
        Format::Json => ("application/json", "subscriptions.json", "[", "\n]\n"),
        Format::Csv => ("text/csv; charset=utf-8", "subscriptions.csv", CSV_HEADER, "\n"),
    };
    let chunks = stream::unfold((state.store.clone(), Some(0i64), true), move |(store, after, first)| async move {
        let after = after?;
        match store.export_chunk(after, CHUNK as i64).await {
            Ok(rows) if rows.is_empty() => None,
            Ok(rows) => {
                let last = rows.last().map(|r| r.id);
                Some((Ok(render(&rows, format, first)), (store, last, false)))
            }
            Err(error) => {
                // The response has started: all we can do is end it early, and say why in the log.
                tracing::error!(%error, "export failed part way");
                Some((Err(std::io::Error::other("export failed")), (store, None, false)))
            }
        }
    });
    let body = stream::once(async move { Ok::<_, std::io::Error>(Bytes::from(head)) })
        .chain(chunks)
        .chain(stream::once(async move { Ok(Bytes::from(tail)) }));
    (
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{file}\"")),
        ],
        Body::from_stream(body),
    )
        .into_response()
}

/// The export's CSV columns: the subscription, then its consent receipt.
const CSV_HEADER: &str = "endpoint,p256dh,auth,topics,application_server_key,created_at,site,consent_page,consent_text,browser,language,time_zone,user_id";

fn render(rows: &[ExportRow], format: Format, first_chunk: bool) -> Bytes {
    let mut out = String::with_capacity(rows.len() * 400);
    for (i, row) in rows.iter().enumerate() {
        let topics: Vec<&str> = row.topics.as_deref().map(|t| t.split('|').collect()).unwrap_or_default();
        let created = chrono::DateTime::from_timestamp(row.created_at, 0).map(|t| t.to_rfc3339()).unwrap_or_default();
        let receipt = row.receipt.receipt();
        match format {
            Format::Json => {
                out.push_str(if first_chunk && i == 0 { "\n" } else { ",\n" });
                let object = json!({
                    "endpoint": row.endpoint,
                    "expirationTime": null,
                    "keys": { "p256dh": row.p256dh, "auth": row.auth },
                    "topics": topics,
                    "applicationServerKey": row.public_key,
                    "created_at": created,
                    "site": row.receipt.site,
                    "consent": {
                        "page": receipt.page,
                        "prompt": receipt.prompt,
                        "browser": receipt.browser,
                        "language": receipt.language,
                        "time_zone": receipt.time_zone,
                    },
                    "user_id": receipt.user_id,
                });
                out.push_str(&object.to_string());
            }
            Format::Csv => {
                out.push('\n');
                let text = |value: Option<String>| value.unwrap_or_default();
                let cells = [
                    row.endpoint.clone(),
                    row.p256dh.clone(),
                    row.auth.clone(),
                    topics.join("|"),
                    text(row.public_key.clone()),
                    created,
                    row.receipt.site.clone(),
                    text(receipt.page),
                    text(receipt.prompt),
                    text(receipt.browser),
                    text(receipt.language),
                    text(receipt.time_zone),
                    text(receipt.user_id),
                ];
                out.push_str(&cells.map(|cell| csv_cell(&cell)).join(","));
            }
        }
    }
    Bytes::from(out)
}

/// What a spreadsheet reads as a formula when a cell starts with it.
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// RFC 4180 quoting, only where needed, and no formulas: a cell a spreadsheet would run
/// (`=HYPERLINK(…)`) gets a leading `'`, which spreadsheets show as text and our import
/// takes off again (see [`unquote_cell`]).
fn csv_cell(value: &str) -> String {
    let value = if value.starts_with(FORMULA_STARTS) { format!("'{value}") } else { value.to_owned() };
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

/// A cell as [`csv_cell`] wrote it, without the `'` that kept it from being a formula.
fn unquote_cell(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(FORMULA_STARTS) => rest,
        _ => cell,
    }
}

/// `POST /admin/subscribers/import`: the file as the body. Each row is validated like a
/// browser's subscription; known endpoints are merged; the answer reports what was done.
/// The body is read as it arrives: a file of any size holds only a few chunks of rows in
/// memory. (The session was checked before the body, by `security::admin_only`.)
/// `?key=<id>` names the VAPID key the subscriptions were made with (another tool's,
/// imported on the Keys page first); without it, the current key.
pub async fn import(
    state: AppState,
    session: Session,
    from: Option<std::net::IpAddr>,
    options: ImportOptions,
    body: Body,
) -> Response {
    let admin = match require_admin(&state, &session).await {
        Ok(admin) => admin,
        Err(refused) => return refused.into_response(),
    };
    let key = match import_key(&state, options.key).await {
        Ok(key) => key,
        Err(refused) => return refused.into_response(),
    };
    let stream = body.into_data_stream().map(|chunk| chunk.map_err(read_error));
    let file = SyncIoBridge::new(StreamReader::new(stream));
    match import_file(&state.store, &state.endpoint_policy(), key, file).await {
        Ok(report) => {
            tracing::info!(
                added = report.added,
                merged = report.merged,
                rejected = report.rejected,
                "subscriptions imported"
            );
            let after = serde_json::json!({
                "key": key, "added": report.added, "merged": report.merged, "rejected": report.rejected,
            });
            let actor = format!("admin {}", admin.username);
            let from = from.map(|a| a.to_string());
            crate::audit::ssr::append(&state, &actor, from, "subscriber.import", "subscriptions", None, Some(after))
                .await;
            Json(report).into_response()
        }
        Err(refused) => refused.into_response(),
    }
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct ImportOptions {
    pub key: Option<i64>,
}

/// The key imported subscriptions are bound to: the one named, if it still signs.
pub(crate) async fn import_key(state: &AppState, named: Option<i64>) -> Result<i64, AppError> {
    let Some(id) = named else {
        return Ok(state.keys.current(&state.store).await.map_err(internal)?.id);
    };
    match state.store.vapid_key(id).await? {
        Some(key) if key.state != "retired" => Ok(id),
        _ => Err(AppError::field("key", "Choose one of the keys on the Keys page that is not retired.")),
    }
}

/// Why the body could not be read (over the size limit, too slow, the client left), in
/// words for the report.
fn read_error(error: axum::Error) -> std::io::Error {
    let cause = error.into_inner();
    let message = if cause.is::<http_body_util::LengthLimitError>() {
        format!("The file is larger than {} MiB.", MAX_IMPORT_BYTES / (1024 * 1024))
    } else if cause.is::<tower_http::timeout::TimeoutError>() {
        "The upload paused for too long.".to_owned()
    } else {
        format!("The upload was interrupted: {cause}")
    };
    std::io::Error::other(message)
}

/// Reads, validates and stores a file of subscriptions, a chunk at a time. The file is
/// parsed on a blocking thread (serde_json and csv read from `std::io::Read`) that hands
/// rows over through a short queue, so parsing waits while the database catches up.
pub async fn import_file(
    store: &Store,
    policy: &EndpointPolicy,
    key: i64,
    file: impl Read + Send + 'static,
) -> Result<ImportReport, AppError> {
    let keys = FileKeys::load(store, key).await?;
    let (rows_tx, mut rows_rx) = tokio::sync::mpsc::channel::<Vec<Result<RawRow, String>>>(2);
    let parser = tokio::task::spawn_blocking(move || {
        parse_rows(BufReader::with_capacity(64 * 1024, file), |rows| rows_tx.blocking_send(rows).is_ok())
    });
    let mut report = ImportReport::default();
    let mut batch = Vec::with_capacity(CHUNK);
    let mut row_number = 0;
    while let Some(rows) = rows_rx.recv().await {
        for row in rows {
            row_number += 1;
            match row.and_then(|row| validate(row, policy, &keys)) {
                Ok(valid) => batch.push(valid),
                Err(reason) => {
                    report.rejected += 1;
                    if report.problems.len() < MAX_PROBLEMS {
                        report.problems.push(ImportProblem { row: row_number, reason });
                    }
                }
            }
            if batch.len() == CHUNK {
                // On an error the queue is dropped, which stops the parser.
                save(store, &mut batch, &mut report).await?;
            }
        }
    }
    save(store, &mut batch, &mut report).await?;
    match parser.await {
        Ok(Ok(())) => Ok(report),
        Ok(Err(message)) if row_number == 0 => Err(AppError::Invalid(message)),
        Ok(Err(message)) => Err(AppError::Invalid(format!(
            "{message} The import stopped after row {row_number}: {} added, {} merged and {} rejected before it.",
            report.added, report.merged, report.rejected
        ))),
        Err(error) => Err(internal(format!("the import's parser failed: {error}"))),
    }
}

async fn save(store: &Store, batch: &mut Vec<ImportRow>, report: &mut ImportReport) -> Result<(), AppError> {
    if batch.is_empty() {
        return Ok(());
    }
    let results = store.import_subscriptions(batch).await.map_err(|error| {
        internal(format!("import stopped after {} added and {} merged: {error}", report.added, report.merged))
    })?;
    report.added += results.iter().filter(|r| **r == Imported::New).count();
    report.merged += results.iter().filter(|r| **r == Imported::Merged).count();
    batch.clear();
    Ok(())
}

/// One subscription as found in the file, not yet checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct RawRow {
    endpoint: String,
    p256dh: String,
    auth: String,
    topics: Option<Vec<String>>,
    /// The VAPID public key the subscription was made with, if the file says.
    key: Option<String>,
}

/// The keys an import can bind subscriptions to: the default, and every key that still
/// signs by its public key.
struct FileKeys {
    default: i64,
    by_public: std::collections::HashMap<String, i64>,
}

impl FileKeys {
    async fn load(store: &Store, default: i64) -> Result<Self, AppError> {
        let by_public = store
            .vapid_keys()
            .await?
            .into_iter()
            .filter(|k| k.state != crate::keys::KeyState::Retired)
            .map(|k| (k.public_key, k.id))
            .collect();
        Ok(Self { default, by_public })
    }

    fn of(&self, public_key: Option<&str>) -> Result<i64, String> {
        match public_key.map(str::trim).filter(|k| !k.is_empty()) {
            None => Ok(self.default),
            Some(public) => self.by_public.get(public).copied().ok_or_else(|| {
                "application server key: not one of Tidings' keys (import its key pair on the Keys page first)"
                    .to_owned()
            }),
        }
    }
}

fn validate(row: RawRow, policy: &EndpointPolicy, keys: &FileKeys) -> Result<ImportRow, String> {
    let subscription =
        NewSubscription::parse(&row.endpoint, &row.p256dh, &row.auth, policy).map_err(|e| e.to_string())?;
    let topics = row
        .topics
        .map(|names| {
            names.iter().map(|n| TopicName::parse(n).map(|n| n.as_str().to_owned())).collect::<Result<Vec<_>, _>>()
        })
        .transpose()
        .map_err(|e| format!("topics: {e}"))?;
    let key = keys.of(row.key.as_deref())?;
    Ok(ImportRow { subscription, topics, key })
}

/// Rows handed on at once by the parser.
type Rows = Vec<Result<RawRow, String>>;

/// Splits the file into rows and hands them to `emit` a chunk at a time (it answers
/// `false` to stop); a file that is none of the accepted shapes is refused whole, one
/// that breaks part way is refused from there on.
fn parse_rows(mut file: impl BufRead, mut emit: impl FnMut(Rows) -> bool) -> Result<(), String> {
    let first = first_byte(&mut file)?.ok_or_else(|| "The file is empty.".to_owned())?;
    match first {
        b'[' => {
            let mut json = serde_json::Deserializer::from_reader(file);
            json.deserialize_seq(RowsVisitor { emit: &mut emit }).map_err(|e| match e.io_error_kind() {
                // Reading the upload failed (too large, too slow): that, not JSON, is why.
                Some(_) => e.to_string(),
                None => format!("The file looks like JSON but is not valid JSON: {e}"),
            })
        }
        b'{' => {
            let mut rows = Vec::with_capacity(CHUNK);
            let mut line = Vec::new();
            loop {
                line.clear();
                match file.read_until(b'\n', &mut line) {
                    Ok(0) => break,
                    Ok(_) => {}
                    Err(error) => {
                        emit(rows);
                        return Err(error.to_string());
                    }
                }
                if line.trim_ascii().is_empty() {
                    continue;
                }
                rows.push(
                    serde_json::from_slice::<Value>(&line)
                        .map_err(|e| format!("not valid JSON: {e}"))
                        .and_then(|v| from_json(&v)),
                );
                if rows.len() == CHUNK && !emit(std::mem::replace(&mut rows, Vec::with_capacity(CHUNK))) {
                    return Ok(());
                }
            }
            emit(rows);
            Ok(())
        }
        _ => from_csv(file, emit),
    }
}

/// The first byte after a byte-order mark and white space, left unread; `None` for a file
/// of only white space. Refuses a start that is not UTF-8 text.
fn first_byte(file: &mut impl BufRead) -> Result<Option<u8>, String> {
    let mut at_start = true;
    loop {
        let buffer = file.fill_buf().map_err(|e| e.to_string())?;
        if buffer.is_empty() {
            return Ok(None);
        }
        if at_start {
            at_start = false;
            if let Err(error) = std::str::from_utf8(buffer) {
                // A character cut at the buffer's end is fine; anything else is not text.
                if error.error_len().is_some() {
                    return Err("The file is not UTF-8 text.".to_owned());
                }
            }
            if buffer.starts_with(b"\xef\xbb\xbf") {
                file.consume(3);
                continue;
            }
        }
        match buffer.iter().position(|b| !b.is_ascii_whitespace()) {
            Some(at) => {
                let first = buffer[at];
                file.consume(at);
                return Ok(Some(first));
            }
            None => {
                let all = buffer.len();
                file.consume(all);
            }
        }
    }
}

/// Reads a JSON array one element at a time, handing rows on a chunk at a time: a
/// million-row file is never a million of anything in memory.
struct RowsVisitor<'a, F> {
    emit: &'a mut F,
}

impl<'de, F: FnMut(Rows) -> bool> serde::de::Visitor<'de> for RowsVisitor<'_, F> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a list of subscriptions")
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut rows = Vec::with_capacity(CHUNK);
        loop {
            let value = match seq.next_element::<Value>() {
                Ok(Some(value)) => value,
                Ok(None) => break,
                Err(error) => {
                    // The rows before the break still count.
                    (self.emit)(rows);
                    return Err(error);
                }
            };
            rows.push(from_json(&value));
            if rows.len() == CHUNK && !(self.emit)(std::mem::replace(&mut rows, Vec::with_capacity(CHUNK))) {
                return Ok(());
            }
        }
        (self.emit)(rows);
        Ok(())
    }
}

fn from_json(value: &Value) -> Result<RawRow, String> {
    let text = |v: Option<&Value>, name: &str| {
        v.and_then(Value::as_str).map(str::to_owned).ok_or_else(|| format!("{name} is missing or not text"))
    };
    let topics = match value.get("topics") {
        None | Some(Value::Null) => None,
        Some(Value::Array(names)) => Some(
            names
                .iter()
                .map(|n| n.as_str().map(str::to_owned).ok_or("topics must be names (text)".to_owned()))
                .collect::<Result<_, _>>()?,
        ),
        Some(_) => return Err("topics must be a list of names".into()),
    };
    let key = match value.get("applicationServerKey") {
        None | Some(Value::Null) => None,
        Some(Value::String(key)) => Some(key.clone()),
        Some(_) => return Err("applicationServerKey must be text (base64url)".into()),
    };
    Ok(RawRow {
        endpoint: text(value.get("endpoint"), "endpoint")?,
        p256dh: text(value.pointer("/keys/p256dh"), "keys.p256dh")?,
        auth: text(value.pointer("/keys/auth"), "keys.auth")?,
        topics,
        key,
    })
}

fn from_csv(file: impl Read, mut emit: impl FnMut(Rows) -> bool) -> Result<(), String> {
    let mut reader = csv::ReaderBuilder::new().flexible(true).trim(csv::Trim::All).from_reader(file);
    let headers = reader.headers().map_err(|e| format!("The CSV header cannot be read: {e}"))?.clone();
    let column = |name: &str| headers.iter().position(|h| h.eq_ignore_ascii_case(name));
    let (Some(endpoint), Some(p256dh), Some(auth)) = (column("endpoint"), column("p256dh"), column("auth")) else {
        return Err("The file is neither JSON nor CSV with the columns endpoint, p256dh and auth.".into());
    };
    let topics = column("topics");
    let key = column("application_server_key");
    let mut rows = Vec::with_capacity(CHUNK);
    for record in reader.records() {
        rows.push(record.map_err(|e| format!("unreadable CSV: {e}")).map(|record| {
            let cell = |i: usize| unquote_cell(record.get(i).unwrap_or_default()).to_owned();
            RawRow {
                endpoint: cell(endpoint),
                p256dh: cell(p256dh),
                auth: cell(auth),
                topics: topics
                    .map(|i| cell(i).split('|').map(str::trim).filter(|n| !n.is_empty()).map(str::to_owned).collect()),
                key: key.map(cell),
            }
        }));
        if rows.len() == CHUNK && !emit(std::mem::replace(&mut rows, Vec::with_capacity(CHUNK))) {
            return Ok(());
        }
    }
    emit(rows);
    Ok(())
}

/// The export holds every subscription's keys (enough to push to it) and the import
/// changes who gets pushes: both are for owners.
async fn require_admin(state: &AppState, session: &Session) -> Result<SignedInAdmin, AppError> {
    let admin = admin_of(&state.store, session).await?.ok_or(AppError::Unauthorized)?;
    admin.may(crate::admin::role::Role::Owner)?;
    Ok(admin)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every row of `file`, or why the file was refused.
    fn read_rows(file: &[u8]) -> Result<Rows, String> {
        let mut all = Vec::new();
        parse_rows(file, |rows| {
            all.extend(rows);
            true
        })?;
        Ok(all)
    }

    #[test]
    fn every_accepted_shape_reads_the_same_rows() {
        let row = RawRow { endpoint: "https://e/1".into(), p256dh: "P".into(), auth: "A".into(), ..Default::default() };
        let json_array = r#"[{"endpoint":"https://e/1","expirationTime":null,"keys":{"p256dh":"P","auth":"A"}}]"#;
        let json_lines = "{\"endpoint\":\"https://e/1\",\"keys\":{\"p256dh\":\"P\",\"auth\":\"A\"}}\n\n";
        let csv = "\u{feff}Endpoint,p256dh,auth\nhttps://e/1,P,A\n";
        for file in [json_array, json_lines, csv] {
            assert_eq!(read_rows(file.as_bytes()).unwrap(), vec![Ok(row.clone())], "{file}");
        }
        let with_topics = read_rows(b"endpoint,p256dh,auth,topics\n\"https://e/1\",P,A,Releases | Offers\n").unwrap();
        assert_eq!(with_topics[0].as_ref().unwrap().topics, Some(vec!["Releases".to_owned(), "Offers".to_owned()]));
    }

    #[test]
    fn bad_rows_are_reported_one_by_one_and_bad_files_as_a_whole() {
        let rows = read_rows(br#"[{"endpoint":"https://e/1"}, 7, {"endpoint":1,"keys":{}}, {"endpoint":"x","keys":{"p256dh":"p","auth":"a"},"topics":"Releases"}]"#).unwrap();
        let errors: Vec<String> = rows.into_iter().map(|r| r.unwrap_err()).collect();
        assert_eq!(
            errors,
            [
                "keys.p256dh is missing or not text",
                "endpoint is missing or not text",
                "endpoint is missing or not text",
                "topics must be a list of names"
            ]
        );
        assert!(read_rows(b"").unwrap_err().contains("empty"));
        assert!(read_rows(b"[{").unwrap_err().contains("not valid JSON"));
        assert!(read_rows(b"name,email\nx,y\n").unwrap_err().contains("endpoint, p256dh and auth"));
        assert!(read_rows(&[0xff, 0xfe]).unwrap_err().contains("UTF-8"));
    }

    #[test]
    fn csv_cells_are_quoted_only_when_needed() {
        assert_eq!(csv_cell("plain"), "plain");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
    }

    #[test]
    fn csv_cells_never_start_a_formula_and_read_back_unchanged() {
        for hostile in ["=HYPERLINK(\"https://evil.example\",\"x\")", "+1+cmd", "-2+3", "@SUM(1)", "\tx", "\rx"] {
            let cell = csv_cell(hostile);
            let inside = cell
                .strip_prefix('"')
                .and_then(|c| c.strip_suffix('"'))
                .map(|c| c.replace("\"\"", "\""))
                .unwrap_or(cell.clone());
            assert!(inside.starts_with('\''), "{hostile:?} was written as {cell:?}");
            assert_eq!(unquote_cell(&inside), hostile);
        }
        // A name that merely starts with a quote is left alone both ways.
        assert_eq!(unquote_cell("'quoted"), "'quoted");
        let rows = read_rows(b"endpoint,p256dh,auth\nhttps://e/1,P,'-abc\n").unwrap();
        assert_eq!(rows[0].as_ref().unwrap().auth, "-abc");
    }

    #[test]
    fn a_file_that_breaks_part_way_keeps_the_rows_before_the_break() {
        let mut seen = Vec::new();
        let broken = br#"[{"endpoint":"https://e/1","keys":{"p256dh":"P","auth":"A"}}, {"endpoint": "#;
        let error = parse_rows(&broken[..], |rows| {
            seen.extend(rows);
            true
        })
        .unwrap_err();
        assert!(error.contains("not valid JSON"), "{error}");
        assert_eq!(seen.len(), 1);
    }
}
