//! The order of sets: an older set sent after a newer one of the same stream (warned, flagged in the inbox, or
//! refused by setting), a sequence re-sent with other bytes (409), and an inbox cursor that follows arrival.
//! The two field cases of fixtures/external (`older_sequence_after_newer`, `sequence_reused_other_bytes`) are
//! sent as they are.

use std::collections::HashSet;

use careplan_relay::relay::OlderSets;
use serde_json::Value;

use crate::helpers::*;
use crate::support::db::backends;

const NEWER: &str = "external/older_sequence_after_newer/newer";
const OLDER: &str = "external/older_sequence_after_newer/older";

fn items(a: &careplan_relay::client::Answer) -> Vec<Value> {
    a.json["items"].as_array().expect("items").clone()
}

fn next(a: &careplan_relay::client::Answer) -> String {
    a.json["next"]
        .as_str()
        .unwrap_or_else(|| panic!("`next` on every answer: {}", a.json))
        .to_string()
}

#[tokio::test]
async fn an_older_set_after_a_newer_one_is_accepted_with_a_warning_and_flagged() {
    for db in backends().await {
        let dir = tempfile::tempdir().unwrap();
        let app = spawn_app(dir.path(), &db).await;
        let (cm, prov, _) = app.offices().await;
        let (sender, recipient) = (app.client(Some(&cm)), app.client(Some(&prov)));

        let newer = sender.send(fixture_set(NEWER)).await.unwrap();
        assert_status(&newer, 201);
        assert_eq!(newer.json["warnings"], serde_json::json!([]), "{}", db.backend);
        let first_page = recipient.get("/v1/inbox").await.unwrap();
        assert_eq!(items(&first_page).len(), 1);
        let cursor = next(&first_page);

        let older = sender.send(fixture_set(OLDER)).await.unwrap();
        assert_status(&older, 201);
        assert_eq!(older.json["sequence"], "20250328090000");
        let warnings = older.json["warnings"].as_array().unwrap();
        assert_eq!(warnings.len(), 1, "{}", older.json);
        let w = &warnings[0];
        assert_eq!(w["code"], "W_SEQUENCE_OLDER");
        assert_eq!(w["newer_sequence"], "20250328101500");
        assert_eq!(w["newer_submission_id"], newer.json["submission_id"]);
        assert!(w["message_ja"].as_str().unwrap().contains("20250328101500"));
        assert!(w["message_en"].as_str().unwrap().contains("20250328101500"));
        // The identical retry replays the answer with its warning.
        let again = sender.send(fixture_set(OLDER)).await.unwrap();
        assert_status(&again, 200);
        assert_eq!(again.json, older.json);

        // The sender's outbox shows the warning; the newer set has none.
        let out = items(&sender.get("/v1/outbox").await.unwrap());
        assert_eq!(out.len(), 2);
        assert_eq!(out[0]["warnings"], serde_json::json!([]));
        assert_eq!(out[1]["warnings"][0]["code"], "W_SEQUENCE_OLDER");
        assert_eq!(out[1]["older_than"]["sequence"], "20250328101500");

        // The inbox lists by arrival: the newer set first, then the older one, flagged with the newer one.
        let all = items(&recipient.get("/v1/inbox?status=all").await.unwrap());
        let seqs: Vec<&str> = all.iter().map(|i| i["sequence"].as_str().unwrap()).collect();
        assert_eq!(seqs, ["20250328101500", "20250328090000"]);
        assert!(all[0]["older_than"].is_null());
        assert_eq!(all[1]["older_than"]["sequence"], "20250328101500");
        assert_eq!(all[1]["older_than"]["delivery_id"], newer.json["delivery_id"]);
        assert!(
            all[1].get("warnings").is_none(),
            "the sender's warnings stay in the outbox"
        );
        // The cursor handed out before the older set arrived returns it.
        let since = recipient.get(&format!("/v1/inbox?after={cursor}")).await.unwrap();
        let since_items = items(&since);
        assert_eq!(since_items.len(), 1);
        assert_eq!(since_items[0]["delivery_id"], older.json["delivery_id"]);
        // One delivery as the recipient reads it carries the flag too.
        let id = older.json["delivery_id"].as_str().unwrap();
        let one = recipient.get(&format!("/v1/inbox/{id}")).await.unwrap();
        assert_eq!(one.json["older_than"]["sequence"], "20250328101500");

        // Another kind of set is another stream: an older plan (第1-3表) is not compared with the schedule; a
        // schedule deletion belongs to the schedule's stream.
        let plan = sender.send(unit_set("plan", "20250328080000")).await.unwrap();
        assert_status(&plan, 201);
        assert_eq!(plan.json["warnings"], serde_json::json!([]), "{}", plan.json);
        let delete = sender
            .send(unit_set("schedule_delete", "20250328085000"))
            .await
            .unwrap();
        assert_status(&delete, 201);
        assert_eq!(delete.json["warnings"][0]["newer_sequence"], "20250328101500");
        app.stop().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn refuse_setting_answers_409_and_stores_only_the_rejection() {
    for db in backends().await {
        let dir = tempfile::tempdir().unwrap();
        let mut s = settings(dir.path(), &db);
        s.relay.older_sets = OlderSets::Refuse;
        let app = spawn_with(s).await;
        let (cm, prov, _) = app.offices().await;
        let (sender, recipient) = (app.client(Some(&cm)), app.client(Some(&prov)));

        let newer = sender.send(fixture_set(NEWER)).await.unwrap();
        assert_status(&newer, 201);
        let before = app.store.row_counts().await.unwrap();
        let refused = sender.send(fixture_set(OLDER)).await.unwrap();
        assert_status(&refused, 409);
        assert_eq!(refused.json["code"], "sequence_older");
        assert_eq!(refused.json["newer_sequence"], "20250328101500");
        assert_eq!(refused.json["newer_submission_id"], newer.json["submission_id"]);
        assert!(
            refused.json["message_ja"]
                .as_str()
                .unwrap()
                .contains("20250328101500")
        );
        assert!(
            refused.json["message_en"]
                .as_str()
                .unwrap()
                .contains("Nothing was stored")
        );
        let after = app.store.row_counts().await.unwrap();
        assert_eq!(
            (
                after.submissions,
                after.files,
                after.deliveries,
                after.rejections,
                after.events
            ),
            (
                before.submissions,
                before.files,
                before.deliveries,
                before.rejections + 1,
                before.events + 1
            ),
            "{}: only the rejection and its event",
            db.backend
        );
        let (kind, detail) = app.events().await.pop().unwrap();
        assert_eq!(kind, "submission.rejected");
        assert_eq!(detail["codes"], serde_json::json!(["sequence_older"]));
        // Refused again the same way (nothing was stored under its names); the newer set's retry still replays.
        assert_status(&sender.send(fixture_set(OLDER)).await.unwrap(), 409);
        assert_status(&sender.send(fixture_set(NEWER)).await.unwrap(), 200);
        let all = items(&recipient.get("/v1/inbox?status=all").await.unwrap());
        assert_eq!(all.len(), 1);
        assert_eq!(all[0]["sequence"], "20250328101500");
        app.stop().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn a_sequence_resent_with_other_bytes_is_a_409_that_names_it() {
    for db in backends().await {
        let dir = tempfile::tempdir().unwrap();
        let app = spawn_app(dir.path(), &db).await;
        let (cm, prov, _) = app.offices().await;
        let (sender, recipient) = (app.client(Some(&cm)), app.client(Some(&prov)));
        let first = sender
            .send(fixture_set("external/sequence_reused_other_bytes/first"))
            .await
            .unwrap();
        assert_status(&first, 201);
        let second = sender
            .send(fixture_set("external/sequence_reused_other_bytes/second"))
            .await
            .unwrap();
        assert_status(&second, 409);
        assert_eq!(second.json["code"], "conflict");
        let sid = first.json["submission_id"].as_str().unwrap();
        for key in ["message_ja", "message_en"] {
            let m = second.json[key].as_str().unwrap();
            assert!(m.contains("20250328101500") && m.contains(sid), "{key}: {m}");
        }
        assert_status(
            &sender
                .send(fixture_set("external/sequence_reused_other_bytes/first"))
                .await
                .unwrap(),
            200,
        );
        assert_eq!(items(&recipient.get("/v1/inbox").await.unwrap()).len(), 1);
        app.stop().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn next_is_on_every_answer_and_a_long_poll_after_it_wakes_for_an_older_set() {
    for db in backends().await {
        let dir = tempfile::tempdir().unwrap();
        let app = spawn_app(dir.path(), &db).await;
        let (cm, prov, _) = app.offices().await;
        let (sender, recipient) = (app.client(Some(&cm)), app.client(Some(&prov)));

        // An empty inbox (and an empty long-poll) already gives a cursor; from it, exactly what arrives since.
        let empty = recipient.get("/v1/inbox?wait=1").await.unwrap();
        assert_status(&empty, 200);
        assert!(items(&empty).is_empty());
        let start = next(&empty);
        assert_status(&sender.send(schedule("20250328120000")).await.unwrap(), 201);
        let page = recipient.get(&format!("/v1/inbox?after={start}")).await.unwrap();
        assert_eq!(items(&page).len(), 1);
        // The last page (not full) carries its cursor; resuming from it is empty, with the same cursor.
        let cursor = next(&page);
        let nothing = recipient
            .get(&format!("/v1/inbox?after={cursor}&wait=1"))
            .await
            .unwrap();
        assert!(items(&nothing).is_empty());
        assert_eq!(next(&nothing), cursor);

        // A long-poll after the cursor wakes for a set with an older sequence.
        let waiter = app.client(Some(&prov));
        let path = format!("/v1/inbox?after={cursor}&wait=30");
        let waiting = tokio::spawn(async move { waiter.get(&path).await.unwrap() });
        // The wait holds until the set is accepted, whenever this upload lands relative to the query.
        let older = sender.send(schedule("20250328100000")).await.unwrap();
        assert_status(&older, 201);
        assert_eq!(older.json["warnings"][0]["code"], "W_SEQUENCE_OLDER");
        let woke = waiting.await.unwrap();
        let got = items(&woke);
        assert_eq!(got.len(), 1, "{}", woke.json);
        assert_eq!(got[0]["delivery_id"], older.json["delivery_id"]);
        assert_eq!(got[0]["older_than"]["sequence"], "20250328120000");
        // Paging through everything with a small limit gives each delivery once, in arrival order.
        let mut seen = Vec::new();
        let mut after = String::new();
        loop {
            let a = recipient
                .get(&format!("/v1/inbox?status=all&limit=1{after}"))
                .await
                .unwrap();
            let page = items(&a);
            if page.is_empty() {
                break;
            }
            seen.extend(page.iter().map(|i| i["sequence"].as_str().unwrap().to_string()));
            after = format!("&after={}", next(&a));
        }
        assert_eq!(seen, ["20250328120000", "20250328100000"]);
        // A cursor of the earlier (sequence-ordered) form is still taken and skips nothing.
        let legacy = recipient
            .get("/v1/inbox?status=all&after=20250328110000-0")
            .await
            .unwrap();
        assert_status(&legacy, 200);
        assert!(items(&legacy).iter().any(|i| i["sequence"] == "20250328120000"));
        assert_status(&recipient.get("/v1/inbox?after=-1").await.unwrap(), 400);
        assert_status(&recipient.get("/v1/inbox?after=12x").await.unwrap(), 400);
        app.stop().await;
        db.cleanup().await;
    }
}

/// Reads the whole inbox after `after` in pages of `limit`, returning the delivery ids and the cursor to go on from.
async fn drain(client: &Checked, after: &str, limit: usize) -> (Vec<String>, String) {
    let mut ids = Vec::new();
    let mut cursor = after.to_string();
    loop {
        let a = client
            .get(&format!("/v1/inbox?status=all&limit={limit}&after={cursor}"))
            .await
            .unwrap();
        assert_status(&a, 200);
        let page = items(&a);
        ids.extend(
            page.iter()
                .map(|i| i["delivery_id"].as_str().unwrap().to_string()),
        );
        cursor = next(&a);
        if page.len() < limit {
            return (ids, cursor);
        }
    }
}

/// Concurrent uploads to one recipient (sequences in no order) while three clients of the recipient page with
/// `after=`: each sees every accepted delivery exactly once. A cursor that did not follow commit order (an id from a
/// sequence that two transactions take in one order and commit in the other) would skip some.
#[tokio::test]
async fn paging_during_concurrent_uploads_sees_every_delivery_exactly_once() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    for db in backends().await {
        let dir = tempfile::tempdir().unwrap();
        let app = spawn_app(dir.path(), &db).await;
        let (cm, prov, _) = app.offices().await;

        const SENDERS: usize = 8;
        const EACH: usize = 8;
        let done = Arc::new(AtomicBool::new(false));
        let mut readers = tokio::task::JoinSet::new();
        for _ in 0..3 {
            let (client, done) = (app.client(Some(&prov)), Arc::clone(&done));
            readers.spawn(async move {
                let (mut seen, mut cursor) = drain(&client, "0", 3).await;
                loop {
                    // Read before the pages: once every upload has answered, one more pass sees all of them.
                    let finished = done.load(Ordering::SeqCst);
                    let (ids, next_cursor) = drain(&client, &cursor, 3).await;
                    seen.extend(ids);
                    cursor = next_cursor;
                    if finished {
                        return seen;
                    }
                }
            });
        }
        let mut uploads = tokio::task::JoinSet::new();
        for t in 0..SENDERS {
            let sender = app.client(Some(&cm));
            uploads.spawn(async move {
                let mut ids = Vec::new();
                for k in 0..EACH {
                    // Sequences interleave across senders and fall as well as rise.
                    let n = (k * SENDERS + t) * 29 % (SENDERS * EACH);
                    let a = sender
                        .send(schedule(&format!("202503281{}{:02}00", n / 60, n % 60)))
                        .await
                        .unwrap();
                    assert_status(&a, 201);
                    ids.push(a.json["delivery_id"].as_str().unwrap().to_string());
                }
                ids
            });
        }
        let accepted: Vec<String> = uploads.join_all().await.into_iter().flatten().collect();
        done.store(true, Ordering::SeqCst);
        assert_eq!(accepted.len(), SENDERS * EACH);
        let want: HashSet<&String> = accepted.iter().collect();
        for seen in readers.join_all().await {
            let unique: HashSet<&String> = seen.iter().collect();
            assert_eq!(
                unique.len(),
                seen.len(),
                "{}: a delivery was listed twice",
                db.backend
            );
            assert_eq!(
                unique, want,
                "{}: every accepted delivery, exactly once",
                db.backend
            );
        }
        app.stop().await;
        db.cleanup().await;
    }
}
