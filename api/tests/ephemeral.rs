//! The ephemeral-store suite: every test runs in process and, when the run includes it, on Redis.

mod common;

use std::time::Duration;

#[tokio::test]
async fn put_get_take_and_expiry() {
    for (backend, store) in common::ephemeral_backends().await {
        store.put("a", "1", Duration::from_secs(60)).await.unwrap();
        assert_eq!(
            store.get("a").await.unwrap().as_deref(),
            Some("1"),
            "{backend}"
        );
        assert_eq!(store.take("a").await.unwrap().as_deref(), Some("1"));
        assert_eq!(
            store.take("a").await.unwrap(),
            None,
            "{backend}: taken once"
        );

        store
            .put("short", "x", Duration::from_millis(200))
            .await
            .unwrap();
        assert!(store.ttl("short").await.unwrap().is_some());
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert_eq!(
            store.get("short").await.unwrap(),
            None,
            "{backend}: expired"
        );
        assert_eq!(store.ttl("short").await.unwrap(), None);

        store.put("d", "v", Duration::from_secs(60)).await.unwrap();
        store.delete("d").await.unwrap();
        assert_eq!(store.get("d").await.unwrap(), None);
        store.ping().await.unwrap();
    }
}

#[tokio::test]
async fn put_if_absent_admits_one_writer() {
    for (backend, store) in common::ephemeral_backends().await {
        assert!(
            store
                .put_if_absent("once", "1", Duration::from_secs(60))
                .await
                .unwrap()
        );
        assert!(
            !store
                .put_if_absent("once", "2", Duration::from_secs(60))
                .await
                .unwrap(),
            "{backend}"
        );
        assert_eq!(store.get("once").await.unwrap().as_deref(), Some("1"));
    }
}

#[tokio::test]
async fn counters_count_within_their_window() {
    for (backend, store) in common::ephemeral_backends().await {
        for expected in 1..=3 {
            assert_eq!(
                store
                    .increment("n", Duration::from_millis(300))
                    .await
                    .unwrap(),
                expected,
                "{backend}"
            );
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(
            store.increment("n", Duration::from_secs(60)).await.unwrap(),
            1,
            "{backend}: window over"
        );
    }
}

#[tokio::test]
async fn concurrent_takers_get_the_value_once() {
    for (backend, store) in common::ephemeral_backends().await {
        store
            .put("code", "123456", Duration::from_secs(60))
            .await
            .unwrap();
        let mut tasks = Vec::new();
        for _ in 0..16 {
            let store = store.clone();
            tasks.push(tokio::spawn(
                async move { store.take("code").await.unwrap() },
            ));
        }
        let mut winners = 0;
        for t in tasks {
            if t.await.unwrap().is_some() {
                winners += 1;
            }
        }
        assert_eq!(winners, 1, "{backend}");
    }
}

/// The lockout's check and its count are one step: of 50 concurrent attempts on a fresh
/// subject, exactly the free ones go ahead and every other one is refused as locked.
#[tokio::test]
async fn concurrent_attempts_get_only_the_free_ones() {
    use permit_api::platform::ephemeral::{Attempt, AttemptRule};
    let rule = AttemptRule {
        free: 5,
        window: Duration::from_secs(60),
        base_lock: Duration::from_secs(30),
        max_lock: Duration::from_secs(900),
    };
    for (backend, store) in common::ephemeral_backends().await {
        let mut tasks = Vec::new();
        for _ in 0..50 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                store.take_attempt("fail:x", "lock:x", &rule).await.unwrap()
            }));
        }
        let mut tickets = Vec::new();
        let mut locked = 0;
        for t in tasks {
            match t.await.unwrap() {
                Attempt::Allowed { ticket } => tickets.push(ticket),
                Attempt::Locked { left } => {
                    assert!(left <= Duration::from_secs(30), "{backend}: {left:?}");
                    locked += 1;
                }
            }
        }
        tickets.sort();
        assert_eq!(tickets, vec![1, 2, 3, 4, 5], "{backend}");
        assert_eq!(locked, 45, "{backend}");

        // Giving back the attempt that armed the lock lifts it; the next one arms it again.
        store.give_back("fail:x", "lock:x", 5).await.unwrap();
        assert_eq!(
            store.take_attempt("fail:x", "lock:x", &rule).await.unwrap(),
            Attempt::Allowed { ticket: 5 },
            "{backend}"
        );
        assert!(matches!(
            store.take_attempt("fail:x", "lock:x", &rule).await.unwrap(),
            Attempt::Locked { .. }
        ));
        // Giving back an earlier attempt lowers the count but leaves another's lock alone.
        store.give_back("fail:x", "lock:x", 2).await.unwrap();
        assert_eq!(store.get("fail:x").await.unwrap().as_deref(), Some("4"));
        assert!(store.ttl("lock:x").await.unwrap().is_some(), "{backend}");

        // Past the free attempts each lock doubles: the sixth of a window arms 60 s.
        store.delete("lock:x").await.unwrap();
        store
            .put("fail:y", "5", Duration::from_secs(60))
            .await
            .unwrap();
        assert_eq!(
            store.take_attempt("fail:y", "lock:y", &rule).await.unwrap(),
            Attempt::Allowed { ticket: 6 }
        );
        let lock = store.ttl("lock:y").await.unwrap().expect("armed");
        assert!(
            lock > Duration::from_secs(30) && lock <= Duration::from_secs(60),
            "{backend}: {lock:?}"
        );
    }
}

/// SMS-code guesses are counted before the code is compared: of 50 concurrent wrong guesses,
/// five are compared (the fifth burns the code) and the rest are told to ask for a new code.
#[tokio::test]
async fn parallel_sms_guesses_are_counted_before_they_are_compared() {
    use permit_api::identity::model::{SmsPurpose, check_phone};
    use permit_api::identity::service::IdentityError;
    use permit_api::identity::service::sms::{keep_code, verify_code};
    let life = Duration::from_secs(300);
    let phone = check_phone("13800000001", "phone").unwrap();
    for (backend, store) in common::ephemeral_backends().await {
        let code = keep_code(&*store, life, &phone, SmsPurpose::StepUp)
            .await
            .unwrap();
        // Every digit moved by one: surely wrong.
        let wrong: String = code
            .chars()
            .map(|c| char::from(b'0' + (c as u8 - b'0' + 1) % 10))
            .collect();
        let mut tasks = Vec::new();
        for _ in 0..50 {
            let (store, phone, wrong) = (store.clone(), phone.clone(), wrong.clone());
            tasks.push(tokio::spawn(async move {
                verify_code(&*store, life, &phone, SmsPurpose::StepUp, &wrong).await
            }));
        }
        let (mut compared, mut exhausted) = (0, 0);
        for t in tasks {
            match t.await.unwrap() {
                Err(IdentityError::InvalidSmsCode) => compared += 1,
                Err(IdentityError::SmsCodeExhausted) => exhausted += 1,
                other => panic!("{backend}: {other:?}"),
            }
        }
        assert_eq!((compared, exhausted), (5, 45), "{backend}");
        // The code is burnt: the right one no longer works.
        assert!(matches!(
            verify_code(&*store, life, &phone, SmsPurpose::StepUp, &code).await,
            Err(IdentityError::SmsCodeExhausted)
        ));
        // A new code starts afresh: four wrong guesses, then the right one.
        let code = keep_code(&*store, life, &phone, SmsPurpose::StepUp)
            .await
            .unwrap();
        for _ in 0..4 {
            assert!(
                verify_code(&*store, life, &phone, SmsPurpose::StepUp, "000000x")
                    .await
                    .is_err()
            );
        }
        verify_code(&*store, life, &phone, SmsPurpose::StepUp, &code)
            .await
            .unwrap_or_else(|e| panic!("{backend}: {e:?}"));
        // Spent: a second use fails.
        assert!(
            verify_code(&*store, life, &phone, SmsPurpose::StepUp, &code)
                .await
                .is_err()
        );
    }
}
