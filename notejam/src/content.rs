//! A user's pads and note list, as every signed-in page shows them (the sidebar, the
//! all-notes page, a pad's page), cached per web node.
//!
//! The cache never serves what the database no longer holds for longer than a
//! notification takes to arrive:
//! - a node drops a user's entry right after its own writes (read-your-writes);
//! - on PostgreSQL, triggers announce every change to notes and pads on channel
//!   `notejam_content` (migration 0002) and each node drops the named user's entry;
//!   while that listening connection is down the cache is bypassed and emptied;
//! - SQLite is single-process, so the node's own writes are all the writes there are.
//!
//! A fill that raced with an invalidation is discarded (see [`ContentCache::fill`]).
//!
//! The list pages rendered from an entry are kept with it (see [`UserContent::page`]),
//! so they go wherever the entry goes.

use std::cmp::Ordering as CmpOrdering;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;

use crate::db::notes::NoteSummary;
use crate::db::pads::Pad;

pub const CHANNEL: &str = "notejam_content";
const STRIPES: usize = 1024;
/// Rendered list pages kept per user: a user's next request is most often the page
/// they are on (a reload, back from a note) or the one they came from; more would
/// multiply the cache's memory by the pages of every user.
const PAGES_KEPT: usize = 2;

/// The `?order=` choices of the note lists.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Order {
    NameAsc,
    NameDesc,
    UpdatedAsc,
    #[default]
    UpdatedDesc,
}

impl Order {
    /// Unknown values fall back to the default, as the original app ignores them.
    pub fn parse(value: Option<&str>) -> Order {
        match value {
            Some("name") => Order::NameAsc,
            Some("-name") => Order::NameDesc,
            Some("updated_at") => Order::UpdatedAsc,
            _ => Order::UpdatedDesc,
        }
    }

    pub fn as_param(self) -> &'static str {
        match self {
            Order::NameAsc => "name",
            Order::NameDesc => "-name",
            Order::UpdatedAsc => "updated_at",
            Order::UpdatedDesc => "-updated_at",
        }
    }
}

/// A listed note with its table cells as escaped HTML, made once when the lists are
/// loaded: escaping and formatting a hundred rows was most of a list page's cost.
/// Only the "last modified" cell, which depends on today's date, is written per request.
#[derive(Debug)]
pub struct ListedNote {
    pub note: NoteSummary,
    /// `<tr><td>` and the linked name, up to the pad cell.
    pub name_cell: String,
    /// The pad cell: the linked pad name, or "No pad".
    pub pad_cell: String,
}

impl ListedNote {
    fn new(note: NoteSummary) -> ListedNote {
        use askama::filters::{Html, escape};
        let name = escape(&note.name, Html)
            .map(|e| e.to_string())
            .unwrap_or_default();
        let name_cell = format!("<tr><td><a href=\"/notes/{}/\">{name}</a></td>", note.id);
        let pad_cell = match (note.pad_id, &note.pad_name) {
            (Some(pad_id), Some(pad_name)) => {
                let pad_name = escape(pad_name, Html)
                    .map(|e| e.to_string())
                    .unwrap_or_default();
                format!("<td class=\"pad\"><a href=\"/pads/{pad_id}/\">{pad_name}</a></td>")
            }
            _ => "<td class=\"pad\"><span class=\"muted\">No pad</span></td>".to_owned(),
        };
        ListedNote {
            note,
            name_cell,
            pad_cell,
        }
    }
}

/// One user's pads (sorted by name) and notes (without their text), and the session
/// epoch that signed-in sessions must match.
#[derive(Debug, Default)]
pub struct UserContent {
    /// `None` when the account no longer exists.
    pub session_epoch: Option<i64>,
    pub pads: Vec<Pad>,
    notes: Vec<ListedNote>,
    /// Lower-cased names, index-aligned with `notes`: names sort case-insensitively.
    name_keys: Vec<String>,
    /// Indexes of `notes` newest first: the default order, sorted once per fill.
    newest_first: Vec<usize>,
    /// List pages rendered from this content, most recent first.
    pages: Mutex<Vec<(PageKey, Bytes)>>,
}

/// Everything a list page shows besides this content: a page rendered for an equal key
/// is the same page, byte for byte.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageKey {
    pub order: Order,
    /// `None` for the all-notes page.
    pub pad_id: Option<i64>,
    /// The start of the day its dates were written relative to ("Today at ...").
    pub day_start_ms: i64,
    /// The account bar's address, from the session.
    pub email: String,
}

impl UserContent {
    pub fn new(
        session_epoch: Option<i64>,
        mut pads: Vec<Pad>,
        notes: Vec<NoteSummary>,
    ) -> UserContent {
        pads.sort_by_cached_key(|pad| (pad.name.to_lowercase(), pad.id));
        let name_keys = notes.iter().map(|note| note.name.to_lowercase()).collect();
        let mut newest_first: Vec<usize> = (0..notes.len()).collect();
        newest_first.sort_by(|a, b| {
            let (a, b) = (&notes[*a], &notes[*b]);
            (b.updated_at, b.id).cmp(&(a.updated_at, a.id))
        });
        let notes = notes.into_iter().map(ListedNote::new).collect();
        UserContent {
            session_epoch,
            pads,
            notes,
            name_keys,
            newest_first,
            pages: Mutex::default(),
        }
    }

    /// A list page rendered earlier from this content for an equal key.
    pub fn page(&self, key: &PageKey) -> Option<Bytes> {
        let pages = self.pages.lock().unwrap_or_else(|e| e.into_inner());
        pages
            .iter()
            .find(|(kept, _)| kept == key)
            .map(|(_, html)| html.clone())
    }

    /// Keeps a rendered list page, dropping the least recently kept beyond [`PAGES_KEPT`].
    pub fn keep_page(&self, key: PageKey, html: Bytes) {
        let mut pages = self.pages.lock().unwrap_or_else(|e| e.into_inner());
        pages.retain(|(kept, _)| *kept != key);
        pages.insert(0, (key, html));
        pages.truncate(PAGES_KEPT);
    }

    pub fn pad(&self, pad_id: i64) -> Option<&Pad> {
        self.pads.iter().find(|pad| pad.id == pad_id)
    }

    /// The notes (of one pad, or all), in the order asked for; ties go by id.
    /// Sorting here rather than in SQL keeps the order identical on both backends
    /// whatever their collations.
    pub fn notes(&self, order: Order, pad_id: Option<i64>) -> Vec<&ListedNote> {
        let in_pad = |i: &usize| pad_id.is_none() || self.notes[*i].note.pad_id == pad_id;
        if order == Order::UpdatedDesc {
            return self
                .newest_first
                .iter()
                .filter(|i| in_pad(i))
                .map(|&i| &self.notes[i])
                .collect();
        }
        let mut picked: Vec<usize> = (0..self.notes.len()).filter(in_pad).collect();
        let by_name = |a: &usize, b: &usize| {
            self.name_keys[*a]
                .cmp(&self.name_keys[*b])
                .then_with(|| self.notes[*a].note.name.cmp(&self.notes[*b].note.name))
                .then_with(|| self.notes[*a].note.id.cmp(&self.notes[*b].note.id))
        };
        let by_update = |a: &usize, b: &usize| {
            let (a, b) = (&self.notes[*a].note, &self.notes[*b].note);
            a.updated_at
                .cmp(&b.updated_at)
                .then_with(|| a.id.cmp(&b.id))
        };
        let compare: &dyn Fn(&usize, &usize) -> CmpOrdering = match order {
            Order::NameAsc => &by_name,
            Order::NameDesc => &|a, b| by_name(b, a),
            Order::UpdatedAsc => &by_update,
            Order::UpdatedDesc => &|a, b| by_update(b, a),
        };
        picked.sort_by(compare);
        picked.into_iter().map(|i| &self.notes[i]).collect()
    }
}

/// What a fill saw before it read the database; it may store its result only if
/// nothing was invalidated since.
#[derive(Clone, Copy, Debug)]
pub struct Ticket {
    epoch: u64,
    stripe: u64,
}

pub struct ContentCache {
    entries: quick_cache::sync::Cache<i64, Arc<UserContent>>,
    /// Invalidation counters, one per stripe of user ids.
    stripes: Box<[AtomicU64]>,
    /// Bumped when the whole cache is emptied (listener lost or regained).
    epoch: AtomicU64,
    enabled: AtomicBool,
}

impl ContentCache {
    /// `capacity` users; the cache starts enabled or waits for [`ContentCache::enable`].
    pub fn new(capacity: usize, enabled: bool) -> ContentCache {
        ContentCache {
            entries: quick_cache::sync::Cache::new(capacity.max(1)),
            stripes: (0..STRIPES).map(|_| AtomicU64::new(0)).collect(),
            epoch: AtomicU64::new(0),
            enabled: AtomicBool::new(enabled),
        }
    }

    fn stripe(&self, user_id: i64) -> &AtomicU64 {
        &self.stripes[user_id.rem_euclid(STRIPES as i64) as usize]
    }

    pub fn is_enabled(&self) -> bool {
        self.enabled.load(Ordering::SeqCst)
    }

    pub fn get(&self, user_id: i64) -> Option<Arc<UserContent>> {
        if !self.is_enabled() {
            return None;
        }
        self.entries.get(&user_id)
    }

    /// Taken before reading the database for a fill.
    pub fn ticket(&self, user_id: i64) -> Ticket {
        Ticket {
            epoch: self.epoch.load(Ordering::SeqCst),
            stripe: self.stripe(user_id).load(Ordering::SeqCst),
        }
    }

    fn still_valid(&self, user_id: i64, ticket: Ticket) -> bool {
        self.is_enabled()
            && self.epoch.load(Ordering::SeqCst) == ticket.epoch
            && self.stripe(user_id).load(Ordering::SeqCst) == ticket.stripe
    }

    /// Stores what was read under `ticket`, unless an invalidation came in between.
    /// Checked again after the insert: an invalidation bumps its counter before it
    /// removes, so whichever order the two run in, no stale entry survives.
    pub fn fill(&self, user_id: i64, ticket: Ticket, content: Arc<UserContent>) {
        if !self.still_valid(user_id, ticket) {
            return;
        }
        self.entries.insert(user_id, content);
        if !self.still_valid(user_id, ticket) {
            self.entries.remove(&user_id);
        }
    }

    pub fn invalidate(&self, user_id: i64) {
        self.stripe(user_id).fetch_add(1, Ordering::SeqCst);
        self.entries.remove(&user_id);
    }

    /// Stops serving from the cache and empties it (the change feed is down).
    pub fn disable(&self) {
        self.enabled.store(false, Ordering::SeqCst);
        self.epoch.fetch_add(1, Ordering::SeqCst);
        self.entries.clear();
    }

    /// Serves from the cache again, starting empty (call once the feed is listening).
    pub fn enable(&self) {
        self.epoch.fetch_add(1, Ordering::SeqCst);
        self.entries.clear();
        self.enabled.store(true, Ordering::SeqCst);
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Follows the change feed on PostgreSQL for as long as the process runs: invalidates
/// the users named in notifications, and keeps the cache off while not listening.
pub async fn follow_changes(database_url: String, cache: Arc<ContentCache>) {
    let mut backoff = Duration::from_millis(100);
    loop {
        cache.disable();
        let listener = async {
            let mut listener = sqlx::postgres::PgListener::connect(&database_url).await?;
            listener.eager_reconnect(false);
            listener.listen(CHANNEL).await?;
            Ok::<_, sqlx::Error>(listener)
        }
        .await;
        let mut listener = match listener {
            Ok(listener) => listener,
            Err(error) => {
                tracing::warn!(%error, "content cache off: cannot listen for changes; retrying");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(10));
                continue;
            }
        };
        backoff = Duration::from_millis(100);
        cache.enable();
        tracing::info!(channel = CHANNEL, "content cache on: listening for changes");
        loop {
            match listener.try_recv().await {
                Ok(Some(notification)) => match notification.payload().parse::<i64>() {
                    Ok(user_id) => cache.invalidate(user_id),
                    Err(_) => {
                        tracing::warn!(
                            payload = notification.payload(),
                            "unexpected change notification"
                        );
                        cache.disable();
                        cache.enable();
                    }
                },
                Ok(None) => {
                    tracing::warn!("content cache off: the change feed connection was lost");
                    break;
                }
                Err(error) => {
                    tracing::warn!(%error, "content cache off: the change feed failed");
                    break;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY_MS: i64 = 24 * 3600 * 1000;

    fn note(id: i64, name: &str, pad_id: Option<i64>, updated_at: i64) -> NoteSummary {
        NoteSummary {
            id,
            name: name.to_owned(),
            pad_id,
            pad_name: None,
            updated_at,
        }
    }

    fn names(notes: Vec<&ListedNote>) -> Vec<&str> {
        notes.into_iter().map(|n| n.note.name.as_str()).collect()
    }

    #[test]
    fn cells_are_escaped_once_at_load() {
        let mut listed = note(3, "<b>&\"x\"</b>", Some(4), 0);
        listed.pad_name = Some("<i>pad</i>".to_owned());
        let content = UserContent::new(Some(0), vec![], vec![listed, note(5, "plain", None, 0)]);
        let rows = content.notes(Order::NameAsc, None);
        assert_eq!(
            rows[0].name_cell,
            "<tr><td><a href=\"/notes/3/\">&#60;b&#62;&#38;&#34;x&#34;&#60;/b&#62;</a></td>"
        );
        assert_eq!(
            rows[0].pad_cell,
            "<td class=\"pad\"><a href=\"/pads/4/\">&#60;i&#62;pad&#60;/i&#62;</a></td>"
        );
        assert!(rows[1].pad_cell.contains("No pad"));
    }

    #[test]
    fn order_round_trips_and_ignores_unknown_values() {
        for order in [
            Order::NameAsc,
            Order::NameDesc,
            Order::UpdatedAsc,
            Order::UpdatedDesc,
        ] {
            assert_eq!(Order::parse(Some(order.as_param())), order);
        }
        assert_eq!(
            Order::parse(Some("name; DROP TABLE notes")),
            Order::UpdatedDesc
        );
        assert_eq!(Order::parse(None), Order::UpdatedDesc);
    }

    #[test]
    fn notes_sort_by_name_case_insensitively_and_by_update() {
        let content = UserContent::new(
            Some(0),
            vec![],
            vec![
                note(1, "banana", Some(7), 30),
                note(2, "Apple", None, 10),
                note(3, "cherry", Some(7), 20),
                note(4, "apple", None, 20),
            ],
        );
        assert_eq!(
            names(content.notes(Order::NameAsc, None)),
            ["Apple", "apple", "banana", "cherry"]
        );
        assert_eq!(
            names(content.notes(Order::NameDesc, None)),
            ["cherry", "banana", "apple", "Apple"]
        );
        // Equal times fall back to the id.
        assert_eq!(
            names(content.notes(Order::UpdatedAsc, None)),
            ["Apple", "cherry", "apple", "banana"]
        );
        assert_eq!(
            names(content.notes(Order::UpdatedDesc, None)),
            ["banana", "apple", "cherry", "Apple"]
        );
        assert_eq!(
            names(content.notes(Order::NameAsc, Some(7))),
            ["banana", "cherry"]
        );
    }

    #[test]
    fn pads_sort_by_name() {
        let pad = |id, name: &str| Pad {
            id,
            name: name.to_owned(),
        };
        let content = UserContent::new(
            Some(0),
            vec![pad(1, "work"), pad(2, "Home"), pad(3, "art")],
            vec![],
        );
        let names: Vec<&str> = content.pads.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["art", "Home", "work"]);
        assert_eq!(content.pad(2).unwrap().name, "Home");
        assert!(content.pad(9).is_none());
    }

    #[test]
    fn pages_are_kept_per_key_and_only_the_latest_few() {
        let content = UserContent::new(Some(0), vec![], vec![note(1, "n", None, 0)]);
        let key = |order, pad_id, day_start_ms, email: &str| PageKey {
            order,
            pad_id,
            day_start_ms,
            email: email.to_owned(),
        };
        let all = key(Order::UpdatedDesc, None, 0, "a@example.com");
        assert_eq!(content.page(&all), None);
        content.keep_page(all.clone(), Bytes::from_static(b"all"));
        assert_eq!(content.page(&all).as_deref(), Some(&b"all"[..]));
        // Any difference in what the page shows is another page.
        for other in [
            key(Order::NameAsc, None, 0, "a@example.com"),
            key(Order::UpdatedDesc, Some(1), 0, "a@example.com"),
            key(Order::UpdatedDesc, None, DAY_MS, "a@example.com"),
            key(Order::UpdatedDesc, None, 0, "b@example.com"),
        ] {
            assert_eq!(content.page(&other), None, "{other:?}");
        }
        // Keeping again replaces; beyond PAGES_KEPT the oldest goes.
        content.keep_page(all.clone(), Bytes::from_static(b"all, again"));
        assert_eq!(content.page(&all).as_deref(), Some(&b"all, again"[..]));
        let pads: Vec<PageKey> = (1..=PAGES_KEPT as i64)
            .map(|pad| key(Order::UpdatedDesc, Some(pad), 0, "a@example.com"))
            .collect();
        for pad in &pads {
            content.keep_page(pad.clone(), Bytes::from_static(b"pad"));
        }
        assert_eq!(content.page(&all), None);
        assert!(pads.iter().all(|pad| content.page(pad).is_some()));
    }

    #[test]
    fn a_fill_that_raced_an_invalidation_is_dropped() {
        let cache = ContentCache::new(10, true);
        let ticket = cache.ticket(5);
        cache.invalidate(5);
        cache.fill(5, ticket, Arc::default());
        assert!(cache.get(5).is_none());

        let ticket = cache.ticket(5);
        cache.fill(5, ticket, Arc::default());
        assert!(cache.get(5).is_some());
        cache.invalidate(5);
        assert!(cache.get(5).is_none());
    }

    #[test]
    fn a_disabled_cache_serves_and_keeps_nothing() {
        let cache = ContentCache::new(10, false);
        let ticket = cache.ticket(1);
        cache.fill(1, ticket, Arc::default());
        assert!(cache.get(1).is_none());

        cache.enable();
        let ticket = cache.ticket(1);
        cache.fill(1, ticket, Arc::default());
        assert!(cache.get(1).is_some());
        // Losing the feed empties it, and a fill begun before does not come back.
        let ticket = cache.ticket(2);
        cache.disable();
        assert!(cache.get(1).is_none());
        cache.enable();
        cache.fill(2, ticket, Arc::default());
        assert!(cache.get(2).is_none());
        assert!(cache.is_empty());
    }
}
