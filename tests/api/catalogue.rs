//! The whole fixture catalogue replayed into one relay, as a newcomer would: every valid set in the order of its
//! directory (valid before invalid) is accepted with a 201 by the office its names say sent it, and every
//! invalid set then gets its 422, none a 409 (each fixture has a sequence of its own).

use careplan_relay::name::FileName;

use crate::helpers::*;
use crate::support::catalog;
use crate::support::db::backends;

#[tokio::test]
async fn the_whole_catalogue_replays_into_one_relay() {
    let spec = careplan_relay::spec::Spec::get().unwrap();
    let mut fixtures = catalog::all(spec);
    fixtures.sort_by_key(|f| (f.dir.starts_with("invalid/"), f.dir.clone()));
    for db in backends().await {
        let dir = tempfile::tempdir().unwrap();
        let app = spawn_app(dir.path(), &db).await;
        let (cm, prov, _) = app.offices().await;
        // The rental schedule names service type 17 (福祉用具貸与) for the provider.
        app.relay
            .edit_office(PROVIDER, None, Some(vec!["11".into(), "17".into()]), "test", None)
            .await
            .unwrap();
        let (cm, prov) = (app.client(Some(&cm)), app.client(Some(&prov)));
        for f in &fixtures {
            let files: Vec<(String, Vec<u8>)> = f
                .files
                .iter()
                .map(|g| (g.name.clone(), g.bytes.clone()))
                .collect();
            let sender = FileName::parse(spec, &files[0].0).map(|n| n.sender.office);
            let client = if sender.as_deref() == Ok(PROVIDER) {
                &prov
            } else {
                &cm
            };
            let answer = client.send(files).await.unwrap();
            let expected = if f.dir.starts_with("valid/") { 201 } else { 422 };
            assert_eq!(answer.status, expected, "{}: {}", f.dir, answer.json);
        }
        app.stop().await;
        db.cleanup().await;
    }
}
