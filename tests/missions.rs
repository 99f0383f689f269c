//! The typed missions store, run by the same code on SQLite and PostgreSQL.

use chrono::{Duration, Utc};
use serde_json::json;

use crate::support::migrated;
use dbshift::missions::{
    self, NewEvent, NewMission, Priority, Status, EVENT_CREATED, EVENT_STATUS_CHANGED,
};
#[cfg(feature = "postgres")]
use dbshift::Backend;
use dbshift::Error;

both_backends! {
    fn create_and_get_a_mission(kind) {
        let db = migrated(kind);
        let before = Utc::now() - Duration::seconds(2);
        let created = missions::create(&*db, &NewMission::new("Map the ice shelf")).unwrap();
        assert!(created.id > 0);
        assert_eq!(created.title, "Map the ice shelf");
        assert_eq!((created.status, created.priority), (Status::Draft, Priority::Medium));
        assert_eq!((created.is_archived, created.progress, created.description.as_deref()), (false, 0, None));
        assert_eq!(created.metadata, json!({}));
        assert!(created.created_at >= before && created.created_at <= Utc::now() + Duration::seconds(2));
        assert_eq!(created.updated_at, created.created_at);
        assert_eq!(missions::get(&*db, created.id).unwrap(), Some(created.clone()));
        assert_eq!(missions::get(&*db, created.id + 1000).unwrap(), None);

        let at = dbshift::value::parse_timestamp("2025-03-04 05:06:07.891011").unwrap();
        let full = NewMission {
            description: Some("Zoë's \"special\" run\nline two".into()),
            status: Status::Active,
            priority: Priority::Critical,
            is_archived: true,
            progress: 42,
            metadata: json!({"owner": "Søren", "crew": 3, "budget": 1234.5, "list": [true, null]}),
            created_at: Some(at),
            ..NewMission::new("東京 uplink 🚀")
        };
        let stored = missions::create(&*db, &full).unwrap();
        assert_eq!(stored.title, "東京 uplink 🚀");
        assert_eq!(stored.description, full.description);
        assert_eq!((stored.status, stored.priority, stored.is_archived, stored.progress), (Status::Active, Priority::Critical, true, 42));
        assert_eq!(stored.metadata, full.metadata);
        assert_eq!((stored.created_at, stored.updated_at), (at, at));
        assert_eq!(missions::get(&*db, stored.id).unwrap().unwrap(), stored);

        let events = missions::events(&*db, stored.id).unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].kind, EVENT_CREATED);
        assert_eq!(events[0].created_at, at);
        assert_eq!(events[0].payload, Some(json!({"status": "active", "priority": "critical"})));
        // The schema's checks hold on both databases.
        let err = missions::create(&*db, &NewMission { progress: 101, ..NewMission::new("too far") }).unwrap_err();
        assert!(matches!(err, Error::Query { .. }), "{err:?}");
        assert!(missions::create(&*db, &NewMission::new("")).is_err());
    }

    fn change_status_records_an_event_in_the_same_transaction(kind) {
        let db = migrated(kind);
        let a = missions::create(&*db, &NewMission::new("a")).unwrap();
        let b = missions::create(&*db, &NewMission::new("b")).unwrap();
        let c = missions::create(&*db, &NewMission { status: Status::Active, ..NewMission::new("c") }).unwrap();
        // The change must happen at a later instant than the creation: wait for the clock to
        // move instead of sleeping a guessed time.
        // SQLite keeps milliseconds: wait for the next one.
        while chrono::Utc::now() <= a.updated_at + chrono::Duration::milliseconds(1) {}
        let changed = missions::change_status(&*db, a.id, Status::Active, Some("crew ready")).unwrap();
        assert_eq!(changed.status, Status::Active);
        assert!(changed.updated_at > a.updated_at, "{} > {}", changed.updated_at, a.updated_at);
        assert_eq!(missions::get(&*db, a.id).unwrap().unwrap(), changed);

        let ids = |status| missions::list_by_status(&*db, status).unwrap().iter().map(|m| m.id).collect::<Vec<_>>();
        assert_eq!(ids(Status::Active), vec![a.id, c.id]);
        assert_eq!(ids(Status::Draft), vec![b.id]);
        assert!(ids(Status::Failed).is_empty());

        let events = missions::events(&*db, a.id).unwrap();
        assert_eq!(events.iter().map(|e| e.kind.as_str()).collect::<Vec<_>>(), [EVENT_CREATED, EVENT_STATUS_CHANGED]);
        assert_eq!(events[1].message.as_deref(), Some("crew ready"));
        assert_eq!(events[1].payload, Some(json!({"from": "draft", "to": "active"})));

        // The same status again changes nothing and records nothing.
        assert_eq!(missions::change_status(&*db, a.id, Status::Active, None).unwrap(), changed);
        assert_eq!(missions::events(&*db, a.id).unwrap().len(), 2);

        let err = missions::change_status(&*db, 999_999, Status::Failed, None).unwrap_err();
        assert!(matches!(err, Error::NotFound { table: "missions", .. }), "{err:?}");
        assert_eq!(err.to_string(), "no row in `missions` with id = 999999");

        let counts = missions::count_by_status(&*db).unwrap();
        assert_eq!(counts.len(), Status::ALL.len());
        assert_eq!(counts[0], (Status::Draft, 1));
        assert_eq!(counts[1], (Status::Active, 2));
        assert_eq!(counts.iter().map(|(_, n)| n).sum::<i64>(), 3);
    }

    fn title_search_ignores_case_and_takes_wildcards_literally(kind) {
        let db = migrated(kind);
        let titles = ["Survey the ICE shelf", "50% rollout", "50 percent rollout", "snake_case audit", "snakeXcase audit", "Zürich archive", r"C:\ backup"];
        let ids: Vec<i64> = titles.iter().map(|t| missions::create(&*db, &NewMission::new(*t)).unwrap().id).collect();
        let found = |text: &str| missions::search_titles(&*db, text).unwrap().iter().map(|m| m.id).collect::<Vec<_>>();
        assert_eq!(found("ice"), vec![ids[0]]);
        assert_eq!(found("SURVEY THE ice"), vec![ids[0]]);
        assert_eq!(found("50%"), vec![ids[1]]);
        assert_eq!(found("e_c"), vec![ids[3]]);
        assert_eq!(found("ROLLOUT"), vec![ids[1], ids[2]]);
        assert_eq!(found("Zürich"), vec![ids[5]]);
        assert_eq!(found(r"C:\"), vec![ids[6]]);
        assert_eq!(found("").len(), titles.len());
        assert!(found("%%").is_empty());
    }

    fn events_and_tags_attach_to_missions(kind) {
        let db = migrated(kind);
        let a = missions::create(&*db, &NewMission::new("a")).unwrap();
        let b = missions::create(&*db, &NewMission::new("b")).unwrap();
        let event = missions::add_event(&*db, a.id, &NewEvent {
            message: Some("Checkpoint ✓".into()),
            payload: Some(json!({"progress": 30})),
            ..NewEvent::new("note")
        }).unwrap();
        assert_eq!((event.mission_id, event.kind.as_str(), event.message.as_deref()), (a.id, "note", Some("Checkpoint ✓")));
        assert_eq!(missions::events(&*db, a.id).unwrap().last(), Some(&event));
        assert!(matches!(missions::add_event(&*db, 424_242, &NewEvent::new("x")), Err(Error::NotFound { .. })));
        assert!(missions::add_event(&*db, a.id, &NewEvent::new("")).is_err(), "empty kind breaks the CHECK");

        let urgent = missions::tag(&*db, a.id, "urgent").unwrap();
        assert_eq!((urgent.name.as_str(), urgent.color.as_deref()), ("urgent", None));
        assert_eq!(missions::tag(&*db, a.id, "urgent").unwrap(), urgent, "tagging twice is a no-op");
        let science = missions::tag(&*db, a.id, "science").unwrap();
        assert_eq!(missions::tag(&*db, b.id, "urgent").unwrap().id, urgent.id, "missions share tags");
        assert_eq!(missions::tags(&*db, a.id).unwrap(), vec![science, urgent.clone()]);
        assert_eq!(missions::tags(&*db, b.id).unwrap(), vec![urgent]);
        let n_tags = db.query_one("SELECT count(*) AS n FROM tags", &[]).unwrap().get::<i64, _>("n").unwrap();
        assert_eq!(n_tags, 2);
        let links = db.query_one("SELECT count(*) AS n FROM mission_tags", &[]).unwrap().get::<i64, _>("n").unwrap();
        assert_eq!(links, 3);
        assert!(matches!(missions::tag(&*db, 424_242, "urgent"), Err(Error::NotFound { .. })));
    }

    fn a_callers_transaction_that_fails_rolls_its_missions_back(kind) {
        let db = migrated(kind);
        let kept = missions::create(&*db, &NewMission::new("kept")).unwrap();
        let mut written = None;
        let err = db.transaction(|tx| {
            let mission = missions::create_in(tx, &NewMission::new("rolled back"))?;
            missions::tag_in(tx, mission.id, "doomed")?;
            missions::change_status_in(tx, kept.id, Status::Failed, Some("never"))?;
            // The caller's own transaction sees what the store wrote in it.
            assert_eq!(missions::get_in(tx, mission.id)?.map(|m| m.title), Some("rolled back".into()));
            assert_eq!(missions::tags_in(tx, mission.id)?.len(), 1);
            written = Some(mission.id);
            tx.execute("INSERT INTO no_such_table VALUES (1)", &[])
        }).unwrap_err();
        assert!(matches!(err, Error::Query { .. }), "{err:?}");
        assert!(written.is_some(), "the body ran");
        // Read back by the database's own shell, not through dbshift.
        assert_eq!(counts(&db), ["1", "1", "0", "0", "draft"]);
        assert_eq!(missions::get(&*db, written.unwrap()).unwrap(), None);
    }

    fn a_callers_transaction_commits_its_missions_with_its_own_writes(kind) {
        let db = migrated(kind);
        let id = db.transaction(|tx| {
            let mission = missions::create_in(tx, &NewMission::new("with the caller"))?;
            missions::add_event_in(tx, mission.id, &NewEvent::new("note"))?;
            tx.execute("INSERT INTO tags (name) VALUES ($1)", &["caller's own".into()])?;
            // A store call that fails inside rolls back only its own writes (a savepoint):
            // PostgreSQL would otherwise refuse every later statement of the transaction.
            let broken = missions::create_in(tx, &NewMission { progress: 101, ..NewMission::new("too far") });
            assert!(broken.unwrap_err().is_check_violation());
            let missing = missions::tag_in(tx, 424_242, "orphan");
            assert!(matches!(missing, Err(Error::NotFound { .. })));
            Ok(mission.id)
        }).unwrap();
        assert_eq!(counts(&db), ["1", "2", "1", "0", "draft"]);
        let events = missions::events(&*db, id).unwrap();
        assert_eq!(events.iter().map(|e| e.kind.as_str()).collect::<Vec<_>>(), [EVENT_CREATED, "note"]);
        // The pool handle is an executor too: the `_in` forms run on it directly.
        assert_eq!(missions::list_by_status_in(&mut &*db, Status::Draft).unwrap().len(), 1);
        assert_eq!(missions::search_titles_in(&mut &*db, "CALLER").unwrap()[0].id, id);
        assert_eq!(missions::count_by_status_in(&mut &*db).unwrap()[0], (Status::Draft, 1));
        assert_eq!(missions::events_in(&mut &*db, id).unwrap(), events);
    }

    fn seed_demo_writes_a_varied_consistent_database(kind) {
        let db = crate::support::backend(kind);
        assert_eq!(missions::seed_demo(&*db, 450).unwrap(), 450, "also runs the migrations");
        let count = |sql: &str| db.query_one(sql, &[]).unwrap().get::<i64, _>(0).unwrap();
        assert_eq!(count("SELECT count(*) FROM missions"), 450);
        assert_eq!(count("SELECT count(*) FROM mission_events WHERE kind = 'created'"), 450);
        assert!(count("SELECT count(*) FROM mission_events") > 900);
        assert_eq!(count("SELECT count(*) FROM tags"), 12);
        assert!(count("SELECT count(DISTINCT mission_id) FROM mission_tags") > 200);
        assert!(count("SELECT count(*) FROM missions WHERE description IS NULL") > 20);
        for (status, n) in missions::count_by_status(&*db).unwrap() {
            assert!(n >= 20, "{status}: only {n}");
        }
        for priority in Priority::ALL {
            let sql = format!("SELECT count(*) FROM missions WHERE priority = {}", db.dialect().cast_param(1, Priority::PG_TYPE));
            assert!(db.query_one(&sql, &[(*priority).into()]).unwrap().get::<i64, _>(0).unwrap() >= 20, "{priority}");
        }
        assert!(!missions::search_titles(&*db, "東京").unwrap().is_empty());
        assert!(!missions::search_titles(&*db, "50%").unwrap().is_empty());
        // Each mission's event log ends in its status, and updated_at is its last event.
        for status in Status::ALL {
            for mission in missions::list_by_status(&*db, *status).unwrap().iter().take(15) {
                let events = missions::events(&*db, mission.id).unwrap();
                assert_eq!(events[0].kind, EVENT_CREATED);
                assert_eq!(events[0].created_at, mission.created_at);
                let last_status = events.iter().rev().find(|e| e.kind == EVENT_STATUS_CHANGED)
                    .map_or(Status::Draft, |e| e.payload.as_ref().unwrap()["to"].as_str().unwrap().parse().unwrap());
                assert_eq!(last_status, mission.status, "mission {}", mission.id);
                assert_eq!(mission.updated_at, events.last().unwrap().created_at);
                assert!(mission.metadata.is_object());
                assert_eq!(mission.progress == 100, matches!(mission.status, Status::Completed | Status::Archived));
            }
        }
    }
}

/// Rows in missions, mission_events, tags and mission_tags, and the status of the first
/// mission, as the database's own shell reads them.
fn counts(db: &crate::support::TestDb) -> Vec<String> {
    let sql = "SELECT (SELECT count(*) FROM missions), (SELECT count(*) FROM mission_events), \
               (SELECT count(*) FROM tags), (SELECT count(*) FROM mission_tags), \
               (SELECT CAST(status AS TEXT) FROM missions ORDER BY id LIMIT 1)";
    let rows = match &db.guard {
        crate::support::Guard::Sqlite(file) => {
            crate::support::independent::sqlite_rows(&file.path, sql)
        }
        #[cfg(feature = "postgres")]
        crate::support::Guard::Postgres(pg) => crate::support::independent::pg_rows(&pg.url, sql),
    };
    rows[0]
        .iter()
        .map(|cell| cell.clone().unwrap_or_default())
        .collect()
}

/// Every mission, with its events and tags, in id order.
#[cfg(feature = "postgres")]
fn everything(
    db: &dyn Backend,
) -> Vec<(missions::Mission, Vec<missions::MissionEvent>, Vec<String>)> {
    let mut all = Vec::new();
    for status in Status::ALL {
        for mission in missions::list_by_status(db, *status).unwrap() {
            let events = missions::events(db, mission.id).unwrap();
            let tags = missions::tags(db, mission.id)
                .unwrap()
                .into_iter()
                .map(|t| t.name)
                .collect();
            all.push((mission, events, tags));
        }
    }
    all.sort_by_key(|(m, _, _)| m.id);
    all
}

#[cfg(feature = "postgres")]
#[test]
fn seed_demo_writes_the_same_data_on_both_databases() {
    use crate::support::{backend, Kind};
    let sqlite = backend(Kind::Sqlite);
    let postgres = backend(Kind::Postgres);
    missions::seed_demo(&*sqlite, 150).unwrap();
    missions::seed_demo(&*postgres, 150).unwrap();
    let (left, right) = (everything(&*sqlite), everything(&*postgres));
    assert_eq!(left.len(), 150);
    for (l, r) in left.iter().zip(&right) {
        assert_eq!(l, r);
    }
}
