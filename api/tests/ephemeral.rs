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
