//! The metadata store's tests, run against SQLite always and against PostgreSQL when
//! `BERTH_TEST_POSTGRES_URL` names a cluster (a fresh database is created per test).

use crate::*;

fn schema_statements(sql: &str) -> Vec<String> {
    sql.lines()
        .filter(|l| !l.trim_start().starts_with("--"))
        .map(|l| l.replace("COLLATE \"C\" ", "").replace("BYTEA", "BLOB"))
        .collect()
}

#[test]
fn both_dialects_define_the_same_tables() {
    let sqlite =
        std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/sqlite")).unwrap();
    for entry in sqlite {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_owned();
        let pg = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("migrations/postgres")
            .join(&name);
        let a = std::fs::read_to_string(&path).unwrap();
        let b = std::fs::read_to_string(&pg).unwrap_or_else(|_| panic!("{pg:?} missing"));
        assert_eq!(
            schema_statements(&a),
            schema_statements(&b),
            "{name:?} differs beyond dialect"
        );
    }
}

async fn databases() -> Vec<(Metadata, Option<tempfile::TempDir>)> {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/meta.db", dir.path().display());
    let mut out = vec![(Metadata::connect(&url).await.unwrap(), Some(dir))];
    match std::env::var("BERTH_TEST_POSTGRES_URL") {
        Ok(admin) => {
            sqlx::any::install_default_drivers();
            let name = format!("berth_meta_{}", uuid::Uuid::new_v4().simple());
            let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&admin)
                .await
                .unwrap();
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&mut conn)
                .await
                .unwrap();
            let base = admin.rsplit_once('/').unwrap().0;
            out.push((
                Metadata::connect(&format!("{base}/{name}")).await.unwrap(),
                None,
            ));
        }
        Err(_) => eprintln!("SKIPPED (PostgreSQL): BERTH_TEST_POSTGRES_URL is not set"),
    }
    out
}

fn image(digest: &str, refs: &[&str]) -> (ImageRecord, Vec<Reference>) {
    (
        ImageRecord {
            digest: digest.to_string(),
            media_type: "application/vnd.oci.image.manifest.v1+json".into(),
            content: b"{\"x\":1}".to_vec(),
            config_digest: refs.first().map(|s| s.to_string()),
            artifact_type: Some("application/x-test".into()),
            subject_digest: Some("sha256:subject".into()),
            annotations: None,
        },
        refs.iter()
            .map(|r| Reference {
                target: r.to_string(),
                kind: ReferenceKind::Blob,
            })
            .collect(),
    )
}

#[tokio::test]
async fn blobs_are_linked_per_repository() {
    for (db, _dir) in databases().await {
        db.create_upload("u1", "p/a").await.unwrap();
        assert!(db.upload_exists("u1", "p/a").await.unwrap());
        assert!(!db.upload_exists("u1", "p/b").await.unwrap());
        let c = db
            .commit_blob("u1", "p/a", "sha256:aa", 3, "k1", &[])
            .await
            .unwrap();
        assert!(c.inserted);
        assert!(!db.upload_exists("u1", "p/a").await.unwrap());
        // A session that has ended cannot record a blob again.
        assert!(matches!(
            db.commit_blob("u1", "p/a", "sha256:bb", 3, "k9", &[]).await,
            Err(crate::MetadataError::UploadGone)
        ));
        assert!(db.blob("sha256:bb").await.unwrap().is_none());
        db.create_upload("u2", "p/c").await.unwrap();
        let again = db
            .commit_blob("u2", "p/c", "sha256:aa", 3, "k2", &[])
            .await
            .unwrap();
        assert!(!again.inserted);
        assert_eq!(again.blob.object_key, "k1");
        assert!(db
            .blob_in_repository("p/a", "sha256:aa")
            .await
            .unwrap()
            .is_some());
        assert!(db
            .blob_in_repository("p/b", "sha256:aa")
            .await
            .unwrap()
            .is_none());
        assert!(db
            .mount_blob("p/b", "q/none", "sha256:aa", &[])
            .await
            .unwrap()
            .is_none());
        assert!(db
            .mount_blob("p/b", "p/a", "sha256:aa", &[])
            .await
            .unwrap()
            .is_some());
        assert!(db.unlink_blob("p/b", "sha256:aa", &[]).await.unwrap());
        assert!(db
            .blob_in_repository("p/b", "sha256:aa")
            .await
            .unwrap()
            .is_none());
        assert_eq!(
            db.catalog(None, 10).await.unwrap(),
            vec!["p/a", "p/b", "p/c"]
        );
        assert_eq!(db.catalog(Some("p/a"), 1).await.unwrap(), vec!["p/b"]);
    }
}

#[tokio::test]
async fn images_tags_history_and_referrers() {
    for (db, _dir) in databases().await {
        let (img, refs) = image("sha256:m1", &["sha256:cfg"]);
        let err = db
            .put_image("p/a", &img, &refs, &["v1".into()], &[])
            .await
            .unwrap_err();
        assert!(matches!(err, MetadataError::MissingReferences(ref m) if m == &["sha256:cfg"]));
        assert!(db
            .image_in_repository("p/a", "sha256:m1")
            .await
            .unwrap()
            .is_none());
        assert!(db.list_tags("p/a", None, 10).await.unwrap().is_empty());

        db.create_upload("u", "p/a").await.unwrap();
        db.commit_blob("u", "p/a", "sha256:cfg", 2, "k", &[])
            .await
            .unwrap();
        db.put_image("p/a", &img, &refs, &["v1".into()], &[])
            .await
            .unwrap();
        db.put_image("p/a", &img, &refs, &["v1".into()], &[])
            .await
            .unwrap();
        let (img2, refs2) = image("sha256:m2", &["sha256:cfg"]);
        db.put_image("p/a", &img2, &refs2, &["v1".into(), "v2".into()], &[])
            .await
            .unwrap();
        let got = db.image_by_tag("p/a", "v1").await.unwrap().unwrap();
        assert_eq!(got.digest, "sha256:m2");
        assert_eq!(got.content, b"{\"x\":1}");
        let history = db.tag_history("p/a", "v1").await.unwrap();
        assert_eq!(
            history
                .iter()
                .map(|e| (e.generation, e.digest.as_str()))
                .collect::<Vec<_>>(),
            vec![(2, "sha256:m2"), (1, "sha256:m1")]
        );
        assert_eq!(
            db.list_tags("p/a", None, 10).await.unwrap(),
            vec!["v1", "v2"]
        );
        assert_eq!(
            db.list_tags("p/a", Some("v1"), 10).await.unwrap(),
            vec!["v2"]
        );

        let refs = db
            .referrers("p/a", "sha256:subject", None, None, 10)
            .await
            .unwrap();
        assert_eq!(refs.len(), 2);
        let filtered = db
            .referrers(
                "p/a",
                "sha256:subject",
                Some("application/x-other"),
                None,
                10,
            )
            .await
            .unwrap();
        assert!(filtered.is_empty());
        let paged = db
            .referrers("p/a", "sha256:subject", None, Some("sha256:m1"), 10)
            .await
            .unwrap();
        assert_eq!(paged.len(), 1);

        assert!(db.delete_image("p/a", "sha256:m2", &[]).await.unwrap());
        assert!(db.image_by_tag("p/a", "v1").await.unwrap().is_none());
        assert!(db.list_tags("p/a", None, 10).await.unwrap().is_empty());
        assert!(db
            .image_in_repository("p/a", "sha256:m1")
            .await
            .unwrap()
            .is_some());
        assert!(!db.delete_tag("p/a", "v1", &[]).await.unwrap());
        db.tag_image("p/a", "v3", "sha256:m1").await.unwrap();
        assert!(db.delete_tag("p/a", "v3", &[]).await.unwrap());
    }
}

#[tokio::test]
async fn settings_keep_the_first_value() {
    for (db, _dir) in databases().await {
        assert_eq!(
            db.setting_or_init("httpSecret", "one").await.unwrap(),
            "one"
        );
        assert_eq!(
            db.setting_or_init("httpSecret", "two").await.unwrap(),
            "one"
        );
    }
}

#[tokio::test]
async fn tag_pages_are_in_byte_order_whatever_the_insert_order() {
    for (db, _dir) in databases().await {
        db.create_upload("u", "p/t").await.unwrap();
        db.commit_blob("u", "p/t", "sha256:cfg", 2, "k", &[])
            .await
            .unwrap();
        let (img, refs) = image("sha256:m", &["sha256:cfg"]);
        let mut names: Vec<String> = (0..60).map(|i| format!("t{:02}", (i * 37) % 60)).collect();
        names.extend([
            "B".to_string(),
            "a".to_string(),
            "_z".to_string(),
            "Z9".to_string(),
        ]);
        db.put_image("p/t", &img, &refs, &names, &[]).await.unwrap();
        let mut expected = names.clone();
        expected.sort(); // byte order: uppercase before '_' before lowercase
        assert_eq!(db.list_tags("p/t", None, 1000).await.unwrap(), expected);
        let page = db.list_tags("p/t", Some("t10"), 5).await.unwrap();
        assert_eq!(page, vec!["t11", "t12", "t13", "t14", "t15"]);
        assert!(db
            .list_tags("p/t", Some("zzz"), 5)
            .await
            .unwrap()
            .is_empty());
        assert!(db.list_tags("p/none", None, 5).await.unwrap().is_empty());
    }
}
