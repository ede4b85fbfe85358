//! Upload sessions under hostile input: forged, tampered, moved, finished and cancelled upload
//! references (`<id>.<issued>.<mac>`, HMAC-signed per repository), chunk gaps and overlaps,
//! `Content-Range` that does not match the body, missing / wrong / unsupported digests, and
//! bodies cut off mid-request. A session's progress (`Range`) is watched along with everything
//! else: a refused request adds no byte to it and makes no blob visible.

// Test tables are tuples read in place, and a request is built once and sent once.
#![allow(clippy::type_complexity)]

use super::{assert_none, raw_request, sha512, Fixture, Send, ANY, MD5_EMPTY};
use crate::support::baseline::Hangup;
use crate::support::databases;
use crate::support::registry::{bytes, sha256};
use reqwest::Method;

/// Starts a session in `repo` holding `data` (one PATCH with `Content-Range`), adds its status
/// to the watch, and returns its path and its upload id.
async fn open_session(f: &mut Fixture, repo: &str, data: &[u8]) -> (String, String) {
    let location = f.reg.start_upload(repo).await;
    let r = f
        .req(Method::PATCH, &location)
        .header("content-type", "application/octet-stream")
        .header("content-range", format!("0-{}", data.len() - 1))
        .body(data.to_vec())
        .send()
        .await
        .expect("PATCH");
    assert_eq!(r.status(), 202, "first chunk");
    let location = r.headers()["location"]
        .to_str()
        .expect("location")
        .to_string();
    let id = location
        .rsplit('/')
        .next()
        .and_then(|r| r.split('.').next())
        .expect("id")
        .to_string();
    f.watch.paths.push(location.clone());
    (location, id)
}

/// The reference part of an upload path.
fn reference(location: &str) -> String {
    location.rsplit('/').next().expect("reference").to_string()
}

/// Changes the first character of `s` to another one of the same kind (hex stays hex, base64
/// stays base64, a digit stays a digit).
fn flip(s: &str) -> String {
    let mut c: Vec<char> = s.chars().collect();
    c[0] = match c[0] {
        'a' => 'b',
        '0' => '1',
        _ if c[0].is_ascii_digit() => '0',
        _ => 'a',
    };
    c.into_iter().collect()
}

/// Every method on an upload reference, each trying to add `evil` to or finish a session that
/// holds `abcd`; none may succeed.
fn attempts(path: &str) -> Vec<(&'static str, String, Vec<(&'static str, String)>, Vec<u8>)> {
    let octets = ("Content-Type", "application/octet-stream".to_string());
    vec![
        ("GET", path.to_string(), vec![], vec![]),
        (
            "PATCH",
            path.to_string(),
            vec![octets.clone(), ("Content-Range", "4-7".into())],
            b"evil".to_vec(),
        ),
        (
            "PATCH",
            path.to_string(),
            vec![octets.clone()],
            b"evil".to_vec(),
        ),
        (
            "PUT",
            format!("{path}?digest={}", sha256(b"abcdevil")),
            vec![octets.clone()],
            b"evil".to_vec(),
        ),
        (
            "PUT",
            format!("{path}?digest={}", sha256(b"abcd")),
            vec![],
            vec![],
        ),
        (
            "PUT",
            format!("{path}?digest={}", sha256(b"")),
            vec![],
            vec![],
        ),
        ("DELETE", path.to_string(), vec![], vec![]),
    ]
}

#[tokio::test]
async fn forged_tampered_and_moved_upload_references_are_unknown() {
    let mut failures = Vec::new();
    for db in databases() {
        let mut f = Fixture::new(db).await;
        for blob in [&b"abcdevil"[..], b"evil", b"abcd", b""] {
            f.watch
                .paths
                .push(format!("/v2/good/app/blobs/{}", sha256(blob)));
        }
        // Each forgery of a reference `<id>.<issued>.<mac>`, made from a genuine one.
        type Forge = fn(&str, &str, &str, &str) -> String;
        let mut forgeries: Vec<(&str, Forge)> = vec![
            ("id changed", |id, i, m, _| format!("{}.{i}.{m}", flip(id))),
            ("id in uppercase", |id, i, m, _| {
                format!("{}.{i}.{m}", id.to_uppercase())
            }),
            ("id one character short", |id, i, m, _| {
                format!("{}.{i}.{m}", &id[1..])
            }),
            ("id one character long", |id, i, m, _| {
                format!("{id}0.{i}.{m}")
            }),
            ("issued + 1", |id, i, m, _| {
                format!("{id}.{}.{m}", i.parse::<i64>().expect("issued") + 1)
            }),
            ("issued - 1", |id, i, m, _| {
                format!("{id}.{}.{m}", i.parse::<i64>().expect("issued") - 1)
            }),
            ("issued negated", |id, i, m, _| format!("{id}.-{i}.{m}")),
            ("issued with a leading zero", |id, i, m, _| {
                format!("{id}.0{i}.{m}")
            }),
            ("issued with a plus sign", |id, i, m, _| {
                format!("{id}.+{i}.{m}")
            }),
            ("issued empty", |id, _, m, _| format!("{id}..{m}")),
            ("issued overflowing", |id, _, m, _| {
                format!("{id}.99999999999999999999.{m}")
            }),
            ("mac changed", |id, i, m, _| format!("{id}.{i}.{}", flip(m))),
            ("mac one character short", |id, i, m, _| {
                format!("{id}.{i}.{}", &m[..m.len() - 1])
            }),
            ("mac one character long", |id, i, m, _| {
                format!("{id}.{i}.{m}A")
            }),
            ("mac padded", |id, i, m, _| format!("{id}.{i}.{m}=")),
            ("mac in standard base64", |id, i, m, _| {
                // Differs from the genuine one only where the alphabets differ (`/` sent as
                // `%2F`, as a client would); without `-` or `_`, its first character changes.
                let std = m.replace('-', "+").replace('_', "%2F");
                if std == m {
                    format!("{id}.{i}.{}", flip(m))
                } else {
                    format!("{id}.{i}.{std}")
                }
            }),
            ("mac empty", |id, i, _, _| format!("{id}.{i}.")),
            ("mac missing", |id, i, _, _| format!("{id}.{i}")),
            ("id alone", |id, _, _, _| id.to_string()),
            ("fourth part", |_, _, _, g| format!("{g}.x")),
            ("NUL appended", |_, _, _, g| format!("{g}%00")),
            ("unsigned well-formed reference", |_, i, m, _| {
                format!("0123456789abcdef0123456789abcdef.{i}.{m}")
            }),
        ];
        forgeries.push(("junk", |_, _, _, _| "not-a-reference".to_string()));
        forgeries.push(("dot-dot", |_, _, _, _| "..".to_string()));
        forgeries.push(("encoded traversal", |_, _, _, _| {
            "..%2F..%2F..%2Fblobs".to_string()
        }));
        forgeries.push(("encoded dot-dot", |_, _, _, _| "%2e%2e".to_string()));
        for (kind, forge) in forgeries {
            // A fresh genuine session for each forgery, so that one accepted forgery does not
            // hide what the next one does.
            let (location, _) = open_session(&mut f, "good/app", b"abcd").await;
            let genuine = reference(&location);
            let parts: Vec<&str> = genuine.split('.').collect();
            assert_eq!(
                parts.len(),
                3,
                "reference {genuine} is not <id>.<issued>.<mac>"
            );
            let forged = forge(parts[0], parts[1], parts[2], &genuine);
            let path = format!("/v2/good/app/blobs/uploads/{forged}");
            for (method, path, headers, body) in attempts(&path) {
                let what = format!("{method} upload reference, {kind}: {path}");
                let request = raw_request(method, &path, &headers, &body);
                f.refused_with(
                    &what,
                    Send::Raw(request, Hangup::No),
                    &[404],
                    &["BLOB_UPLOAD_UNKNOWN"],
                    &[],
                )
                .await;
            }
            f.watch.paths.retain(|p| p != &location);
            f.reg.delete(&location).await;
        }
        let (location, _) = open_session(&mut f, "good/app", b"abcd").await;
        let genuine = reference(&location);
        // The genuine reference, moved to other repositories.
        for repo in ["other/secret", "evil/x", "good/other", "good/app2"] {
            let path = format!("/v2/{repo}/blobs/uploads/{genuine}");
            for (method, path, headers, body) in attempts(&path) {
                let what = format!("{method} upload reference moved to {repo}");
                let request = raw_request(method, &path, &headers, &body);
                f.refused_with(
                    &what,
                    Send::Raw(request, Hangup::No),
                    &[404],
                    &["BLOB_UPLOAD_UNKNOWN"],
                    &[],
                )
                .await;
            }
        }
        for repo in ["Good/app", "good/app/x", "good%2Fapp"] {
            let path = format!("/v2/{repo}/blobs/uploads/{genuine}");
            for (method, path, headers, body) in attempts(&path) {
                let what = format!("{method} upload reference moved to {repo}");
                let request = raw_request(method, &path, &headers, &body);
                f.refused_with(
                    &what,
                    Send::Raw(request, Hangup::No),
                    &[400],
                    &["NAME_INVALID"],
                    &[],
                )
                .await;
            }
        }
        // The genuine session is untouched and goes on.
        let r = f
            .req(Method::PATCH, &location)
            .header("content-range", "4-7")
            .body(b"efgh".to_vec())
            .send()
            .await
            .expect("PATCH");
        if r.status() != 202 {
            f.fail(
                "genuine session after the forgeries",
                format!("PATCH {}", r.status()),
            );
        }
        let r = f
            .req(
                Method::PUT,
                &format!("{location}?digest={}", sha256(b"abcdefgh")),
            )
            .send()
            .await
            .expect("PUT");
        if r.status() != 201 {
            f.fail(
                "genuine session after the forgeries",
                format!("PUT {}", r.status()),
            );
        }
        failures.extend(f.finish());
    }
    assert_none(failures);
}

#[tokio::test]
async fn finished_cancelled_and_unknown_uploads_are_unknown() {
    let mut failures = Vec::new();
    for db in databases() {
        let mut f = Fixture::new(db).await;
        for blob in [&b"abcd"[..], b"", b"abcdevil", b"evil"] {
            f.watch
                .paths
                .push(format!("/v2/good/app/blobs/{}", sha256(blob)));
        }
        // Finished.
        let (finished, _) = open_session(&mut f, "good/app", b"xyz0").await;
        f.watch.paths.pop();
        let r = f
            .req(
                Method::PUT,
                &format!("{finished}?digest={}", sha256(b"xyz0")),
            )
            .send()
            .await
            .expect("PUT");
        assert_eq!(r.status(), 201, "finishing an upload");
        // Cancelled, with data in it.
        let (cancelled, _) = open_session(&mut f, "good/app", b"abcd").await;
        f.watch.paths.pop();
        assert_eq!(f.reg.delete(&cancelled).await.status(), 204, "cancel");
        // Ended by a wrong digest.
        let (failed, _) = open_session(&mut f, "good/app", b"abcd").await;
        f.watch.paths.pop();
        let r = f
            .req(
                Method::PUT,
                &format!("{failed}?digest={}", sha256(b"wrong")),
            )
            .send()
            .await
            .expect("PUT");
        assert_eq!(r.status(), 400, "wrong digest");
        // Never started: a well-formed id the registry did not issue (the MAC cannot be right).
        let unknown = format!(
            "/v2/good/app/blobs/uploads/{}.{}.{}",
            "f".repeat(32),
            reference(&finished).split('.').nth(1).expect("issued"),
            "A".repeat(43)
        );
        for (kind, location) in [
            ("finished", &finished),
            ("cancelled", &cancelled),
            ("unknown", &unknown),
        ] {
            for (method, path, headers, body) in attempts(location) {
                let what = format!("{method} on a {kind} upload: {path}");
                let request = raw_request(method, &path, &headers, &body);
                f.refused_with(
                    &what,
                    Send::Raw(request, Hangup::No),
                    &[404],
                    &["BLOB_UPLOAD_UNKNOWN"],
                    &[],
                )
                .await;
            }
        }
        // A session a wrong digest ended may be gone (404) or, if kept, must still hold only
        // `abcd`: finishing it with `abcd`'s digest is then the one thing that may work.
        let r = f.send(Send::Http(f.req(Method::GET, &failed))).await;
        match r.status {
            404 => {}
            204 if r.header("range") == Some("0-3") => {}
            _ => f.fail(
                "status of an upload a wrong digest ended",
                format!("{} {:?}", r.status, r.header("range")),
            ),
        }
        failures.extend(f.finish());
    }
    assert_none(failures);
}

#[tokio::test]
async fn chunk_gaps_overlaps_and_bad_content_ranges_store_nothing() {
    let mut failures = Vec::new();
    for db in databases() {
        let mut f = Fixture::new(db).await;
        let (location, _) = open_session(&mut f, "good/app", b"abcd").await;
        const SIZE: &[&str] = &["SIZE_INVALID", "BLOB_UPLOAD_INVALID", "RANGE_INVALID"];
        // (what, Content-Range, body, statuses, codes)
        let cases: Vec<(&str, &str, &[u8], &[u16], &[&str])> = vec![
            ("gap after the end", "10-13", b"wxyz", &[416], ANY),
            ("rewind to the start", "0-3", b"abcd", &[416], ANY),
            ("overlap with the end", "2-5", b"cdef", &[416], ANY),
            ("one byte after the end", "5-8", b"efgh", &[416], ANY),
            (
                "body shorter than the range",
                "4-9",
                b"ef",
                &[400, 416],
                SIZE,
            ),
            (
                "body longer than the range",
                "4-5",
                b"efghij",
                &[400, 416],
                SIZE,
            ),
            ("end before start", "7-4", b"efgh", &[400, 416], SIZE),
            ("not a range", "abc", b"efgh", &[400, 416], SIZE),
            ("open range", "4-", b"efgh", &[400, 416], SIZE),
            ("negative start", "-4-7", b"efgh", &[400, 416], SIZE),
            (
                "end beyond u64",
                "4-99999999999999999999",
                b"efgh",
                &[400, 416],
                SIZE,
            ),
            (
                "empty body for a one-byte range",
                "4-4",
                b"",
                &[400, 416],
                SIZE,
            ),
        ];
        for (what, range, body, statuses, codes) in cases {
            let rb = f
                .req(Method::PATCH, &location)
                .header("content-type", "application/octet-stream")
                .header("content-range", range)
                .body(body.to_vec());
            let what = format!("PATCH {what} (Content-Range {range})");
            let outcome = f
                .refused_with(&what, Send::Http(rb), statuses, codes, &[])
                .await;
            if outcome.status == 416 && outcome.header("range").is_some_and(|r| r != "0-3") {
                f.fail(
                    &what,
                    format!("416 with Range {:?}, expected 0-3", outcome.header("range")),
                );
            }
        }
        // Finishing with a Content-Range that does not start at the end.
        let rb = f
            .req(
                Method::PUT,
                &format!("{location}?digest={}", sha256(b"abcdwxyz")),
            )
            .header("content-range", "10-13")
            .body(b"wxyz".to_vec());
        f.refused_with(
            "PUT with a gap (Content-Range 10-13)",
            Send::Http(rb),
            &[416],
            ANY,
            &[],
        )
        .await;
        // The session is intact and goes on.
        let r = f
            .req(Method::PATCH, &location)
            .header("content-range", "4-7")
            .body(b"efgh".to_vec())
            .send()
            .await
            .expect("PATCH");
        let ok = r.status() == 202;
        let r = f
            .req(
                Method::PUT,
                &format!("{location}?digest={}", sha256(b"abcdefgh")),
            )
            .send()
            .await
            .expect("PUT");
        if !ok || r.status() != 201 {
            f.fail(
                "session after refused chunks",
                format!("PATCH ok {ok}, PUT {}", r.status()),
            );
        }
        // A range whose end is u64::MAX (so that `end + 1` overflows), on a session of its own.
        let (location, _) = open_session(&mut f, "good/app", b"abcd").await;
        let rb = f
            .req(Method::PATCH, &location)
            .header("content-type", "application/octet-stream")
            .header("content-range", "4-18446744073709551615")
            .body(b"efgh".to_vec());
        f.refused_with(
            "PATCH with Content-Range 4-18446744073709551615 (end at u64::MAX)",
            Send::Http(rb),
            &[400, 416],
            SIZE,
            &[],
        )
        .await;
        failures.extend(f.finish());
    }
    assert_none(failures);
}

#[tokio::test]
async fn missing_wrong_and_unsupported_digests_make_no_blob() {
    let mut failures = Vec::new();
    for db in databases() {
        let mut f = Fixture::new(db).await;
        for blob in [
            &b"abcd"[..],
            b"abcdefgh",
            b"abcdefg",
            b"efgh",
            b"x",
            b"y",
            b"",
        ] {
            f.watch
                .paths
                .push(format!("/v2/good/app/blobs/{}", sha256(blob)));
        }
        let big = bytes(31, 2000);
        f.watch
            .paths
            .push(format!("/v2/good/app/blobs/{}", sha256(&big)));
        f.watch
            .paths
            .push(format!("/v2/good/app/blobs/{}", sha256(&big[..1000])));
        let (location, id) = open_session(&mut f, "good/app", b"abcd").await;
        // Refusals that leave the session as it was.
        for (what, query, body) in [
            ("no digest", String::new(), &b""[..]),
            ("no digest, with a last chunk", String::new(), b"efgh"),
            ("empty digest", "?digest=".to_string(), b""),
            ("md5", format!("?digest={MD5_EMPTY}"), b""),
            (
                "md5, with a last chunk",
                format!("?digest={MD5_EMPTY}"),
                b"efgh",
            ),
            ("short sha256", "?digest=sha256:abc".to_string(), b""),
            (
                "sha256 of non-hex",
                format!("?digest=sha256:{}", "z".repeat(64)),
                b"",
            ),
            (
                "uppercase algorithm",
                format!("?digest=SHA256:{}", &sha256(b"abcd")[7..]),
                b"",
            ),
            (
                "uppercase hex",
                format!("?digest=sha256:{}", sha256(b"abcd")[7..].to_uppercase()),
                b"",
            ),
            ("sha384", format!("?digest=sha384:{}", "a".repeat(96)), b""),
            (
                "path in the digest",
                "?digest=sha256:..%2F..%2Fetc%2Fpasswd".to_string(),
                b"",
            ),
        ] {
            let rb = f
                .req(Method::PUT, &format!("{location}{query}"))
                .body(body.to_vec());
            f.refused_with(
                &format!("PUT finishing an upload: {what}"),
                Send::Http(rb),
                &[400],
                &["DIGEST_INVALID"],
                &[],
            )
            .await;
        }
        // Wrong digests: no blob; the session may end (its status and files may go), nothing
        // else changes.
        f.watch.paths.retain(|p| p != &location);
        let secret = f.secret.clone();
        let mut next = Some((location, id));
        for (what, digest, body) in [
            ("digest of other content", sha256(b"abcdefgh"), &b""[..]),
            ("truncated last chunk", sha256(b"abcdefgh"), b"efg"),
            ("digest of another repository's blob", secret.clone(), b""),
            ("sha512 of other content", sha512(b"other"), b"efgh"),
        ] {
            let (location, id) = match next.take() {
                Some(session) => session,
                None => {
                    let session = open_session(&mut f, "good/app", b"abcd").await;
                    f.watch.paths.retain(|p| p != &session.0);
                    session
                }
            };
            let rb = f
                .req(Method::PUT, &format!("{location}?digest={digest}"))
                .header("content-type", "application/octet-stream")
                .body(body.to_vec());
            f.refused_with(
                &format!("PUT finishing an upload: {what}"),
                Send::Http(rb),
                &[400],
                &["DIGEST_INVALID"],
                &[format!("uploads/{id}")],
            )
            .await;
        }
        // Monolithic uploads (POST ?digest=) with wrong or unsupported digests leave nothing.
        for (what, repo, query, body) in [
            (
                "wrong digest",
                "good/app",
                format!("?digest={}", sha256(b"x")),
                b"y".to_vec(),
            ),
            (
                "digest of another repository's blob",
                "evil/x",
                format!("?digest={secret}"),
                b"not the secret".to_vec(),
            ),
            (
                "digest of another repository's blob, empty body",
                "good/app",
                format!("?digest={secret}"),
                vec![],
            ),
            (
                "wrong digest into a new repository",
                "fresh/repo",
                format!("?digest={}", sha256(b"x")),
                b"y".to_vec(),
            ),
            (
                "truncated body",
                "good/app",
                format!("?digest={}", sha256(&big)),
                big[..1000].to_vec(),
            ),
            (
                "sha512 of other content",
                "good/app",
                format!("?digest={}", sha512(b"x")),
                b"y".to_vec(),
            ),
            ("md5", "good/app", format!("?digest={MD5_EMPTY}"), vec![]),
            (
                "short sha256",
                "good/app",
                "?digest=sha256:abc".to_string(),
                b"abc".to_vec(),
            ),
            (
                "empty digest",
                "good/app",
                "?digest=".to_string(),
                b"abc".to_vec(),
            ),
        ] {
            let rb = f
                .req(Method::POST, &format!("/v2/{repo}/blobs/uploads/{query}"))
                .header("content-type", "application/octet-stream")
                .body(body);
            f.refused(
                &format!("POST monolithic upload: {what}"),
                rb,
                400,
                &["DIGEST_INVALID"],
            )
            .await;
        }
        failures.extend(f.finish());
    }
    assert_none(failures);
}

#[tokio::test]
async fn bodies_cut_off_mid_request_store_nothing() {
    let mut failures = Vec::new();
    for db in databases() {
        let mut f = Fixture::new(db).await;
        let data = bytes(3, 1_000_000);
        let sent = &data[..300_000];
        let mut full = b"abcd".to_vec();
        full.extend(&data);
        for blob in [&data[..], sent, &full[..]] {
            f.watch
                .paths
                .push(format!("/v2/good/app/blobs/{}", sha256(blob)));
        }
        f.watch
            .paths
            .push(format!("/v2/fresh/repo/blobs/{}", sha256(&data)));
        let (location, id) = open_session(&mut f, "good/app", b"abcd").await;
        let octets = ("Content-Type", "application/octet-stream".to_string());
        let announced = ("Content-Length", data.len().to_string());
        for hangup in [Hangup::Drop, Hangup::HalfClose] {
            for (what, headers) in [
                ("PATCH", vec![octets.clone(), announced.clone()]),
                (
                    "PATCH with Content-Range",
                    vec![
                        octets.clone(),
                        announced.clone(),
                        ("Content-Range", format!("4-{}", 4 + data.len() - 1)),
                    ],
                ),
            ] {
                let request = raw_request("PATCH", &location, &headers, sent);
                f.refused_with(
                    &format!("{what} cut off after 300,000 of 1,000,000 bytes ({hangup:?})"),
                    Send::Raw(request, hangup),
                    &[0, 400],
                    &[],
                    &[],
                )
                .await;
            }
        }
        // The session still holds exactly `abcd` (checked by the watch) and goes on.
        let r = f.send(Send::Http(f.req(Method::GET, &location))).await;
        if r.header("range") != Some("0-3") {
            f.fail(
                "session after cut-off chunks",
                format!("{} Range {:?}", r.status, r.header("range")),
            );
        }
        // Finishing, cut off: no blob; the session may end.
        let mut session = (location, id);
        for hangup in [Hangup::Drop, Hangup::HalfClose] {
            let (location, id) = session.clone();
            let request = raw_request(
                "PUT",
                &format!("{location}?digest={}", sha256(&full)),
                &[octets.clone(), announced.clone()],
                sent,
            );
            f.watch.paths.retain(|p| p != &location);
            f.refused_with(
                &format!("PUT finishing an upload, cut off ({hangup:?})"),
                Send::Raw(request, hangup),
                &[0, 400],
                &[],
                &[format!("uploads/{id}")],
            )
            .await;
            let r = f.send(Send::Http(f.req(Method::GET, &location))).await;
            if !(r.status == 404 || r.header("range") == Some("0-3")) {
                f.fail(
                    &format!("session after a cut-off PUT ({hangup:?})"),
                    format!("{} Range {:?}", r.status, r.header("range")),
                );
            }
            if r.status == 204 {
                // Still there: end it, so the next case starts from a known state.
                f.reg.delete(&location).await;
            }
            session = open_session(&mut f, "good/app", b"abcd").await;
            f.watch.paths.retain(|p| p != &session.0);
        }
        // Monolithic uploads cut off: nothing at all may be left behind.
        for hangup in [Hangup::Drop, Hangup::HalfClose] {
            for repo in ["good/app", "fresh/repo"] {
                let request = raw_request(
                    "POST",
                    &format!("/v2/{repo}/blobs/uploads/?digest={}", sha256(&data)),
                    &[octets.clone(), announced.clone()],
                    sent,
                );
                f.refused_with(
                    &format!("POST monolithic upload to {repo}, cut off ({hangup:?})"),
                    Send::Raw(request, hangup),
                    &[0, 400],
                    &[],
                    &[],
                )
                .await;
            }
        }
        failures.extend(f.finish());
    }
    assert_none(failures);
}
