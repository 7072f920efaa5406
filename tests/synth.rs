//! The synthetic data generator (`laihua seed-synthetic`, issue 7): a small run into the test
//! server's database (SQLite, or PostgreSQL when LAIHUA_TEST_POSTGRES_URL is set), then the
//! pages a load benchmark measures, served from it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::TestApp;
use laihua::domain::group::GroupState;
use laihua::synth::{generate, Options, UNIT_PASSWORD};

#[tokio::test]
async fn synthetic_data_covers_every_state_and_serves_the_benchmarked_pages() {
    let app = TestApp::spawn().await;
    let options = Options::new(20, 300, 7, app.state.now());
    let summary = generate(
        &app.state.db,
        &app.state.files,
        &app.state.keys,
        &options,
        &mut |_| {},
    )
    .await
    .unwrap();

    let count = |t: &str| {
        summary
            .tables
            .iter()
            .find(|(name, _)| name == t)
            .map(|(_, n)| *n)
            .unwrap()
    };
    assert_eq!(count("units"), 20);
    assert_eq!(count("invitation_groups"), 300);
    assert!(count("visit_records") > 0);
    assert!(count("messages") > 300);
    assert!(count("audit_log") > 1000);
    // Issue 16's fields: every group has its size and an itinerary within its dates, every
    // visitor a visa type, a stay and an employer's address.
    assert!(
        app.scalar("SELECT COUNT(DISTINCT group_id) FROM group_itinerary")
            .await
            == 300
    );
    assert_eq!(
        app.scalar(
            "SELECT COUNT(*) FROM group_itinerary t JOIN invitation_groups g ON g.id = t.group_id
             WHERE t.day < g.arrival OR t.day > g.departure"
        )
        .await,
        0
    );
    assert_eq!(
        app.scalar("SELECT COUNT(*) FROM invitation_groups WHERE group_size IS NULL")
            .await,
        0
    );
    assert_eq!(
        app.scalar(
            "SELECT COUNT(*) FROM group_visitors WHERE visa_type = '' OR stay_days IS NULL
             OR employer_country = '' OR employer_address = ''"
        )
        .await,
        0
    );
    for s in GroupState::ALL {
        let n = app
            .scalar(&format!(
                "SELECT COUNT(*) FROM invitation_groups WHERE state = '{}'",
                s.as_str()
            ))
            .await;
        assert!(n > 0, "no group in state {}", s.as_str());
    }
    // 1–5 visitors per group.
    assert_eq!(
        app.scalar(
            "SELECT COUNT(*) FROM invitation_groups g WHERE (SELECT COUNT(*) FROM group_visitors v
             WHERE v.group_id = g.id) NOT BETWEEN 1 AND 5"
        )
        .await,
        0
    );
    assert!(
        app.scalar("SELECT COUNT(DISTINCT nationality) FROM group_visitors")
            .await
            >= 5
    );
    assert!(
        app.scalar("SELECT COUNT(DISTINCT district_id) FROM units")
            .await
            >= 5
    );
    // Step times follow one another (a group returned and resubmitted keeps the time of its
    // earlier county approval until the county approves it again, as in the application).
    assert_eq!(
        app.scalar(
            "SELECT COUNT(*) FROM invitation_groups WHERE submitted_at < created_at
               OR (state IN ('accepted', 'reported', 'dispatched') AND county_passed_at < submitted_at)
               OR accepted_at < county_passed_at OR reported_at < accepted_at
               OR dispatched_at < reported_at"
        )
        .await,
        0
    );
    // The audit chain written in bulk is the one `laihua audit verify` checks.
    match laihua::store::audit::verify(app.state.pool())
        .await
        .unwrap()
    {
        laihua::store::audit::Verdict::Intact(n) => assert!(n as i64 >= count("audit_log") - 5),
        other => panic!("audit chain broken: {other:?}"),
    }

    assert!(summary.passport.len() >= 5);
    assert!(summary.dispatched_group > 0);

    // The unit signs in and sees its history; the county its queue; the city finds the passport.
    let unit = app.client();
    unit.login(&summary.unit_login, UNIT_PASSWORD).await;
    let history = unit.get("/history").await;
    history.assert_ok();
    assert!(history.has("申报历史查询"));
    unit.get("/home").await.assert_ok();

    let county = app.client();
    county
        .login(&summary.county_login, common::DEMO_PASSWORD)
        .await;
    county.get("/review/groups").await.assert_ok();

    let city = app.client();
    city.login(&summary.city_login, common::DEMO_PASSWORD).await;
    let found = city.get(&format!("/search?q={}", summary.passport)).await;
    found.assert_ok();
    let number: String = sqlx::query_scalar("SELECT number FROM invitation_groups WHERE id = $1")
        .bind(summary.dispatched_group)
        .fetch_one(app.state.pool())
        .await
        .unwrap();
    assert!(
        found.has(&number),
        "search for {} lacks {number}",
        summary.passport
    );
    city.get(&format!("/review/groups/{}", summary.dispatched_group))
        .await
        .assert_ok();

    // Numbers drawn after the load continue the sequences.
    let year: i64 = laihua::clock::fmt_ts(app.state.now())[..4].parse().unwrap();
    let mut conn = app.state.pool().acquire().await.unwrap();
    let group = laihua::domain::group_flow::Sequence::Group;
    let next = laihua::store::groups::next_in_sequence(&mut conn, group, year)
        .await
        .unwrap();
    let taken = app
        .scalar(&format!(
            "SELECT COUNT(*) FROM invitation_groups WHERE number = '{year}{next:04}'"
        ))
        .await;
    assert_eq!(taken, 0);
}

#[tokio::test]
async fn the_generator_refuses_a_database_that_already_has_groups() {
    let app = TestApp::spawn().await;
    let options = Options::new(3, 20, 1, app.state.now());
    generate(
        &app.state.db,
        &app.state.files,
        &app.state.keys,
        &options,
        &mut |_| {},
    )
    .await
    .unwrap();
    let again = generate(
        &app.state.db,
        &app.state.files,
        &app.state.keys,
        &options,
        &mut |_| {},
    )
    .await;
    assert!(again.is_err());
}
