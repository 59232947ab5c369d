//! The partners registry: workshops and suppliers that managers keep and dispatchers read.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::backend_test;
use crate::helpers::TestApp;

fn workshop() -> Value {
    json!({"kind": "workshop", "name": "Prenzlauer Repair", "address": "Danziger Strasse 50",
           "lat": 52.5390, "lon": 13.4280, "opens": "08:30", "closes": "17:00",
           "time_zone": "Europe/Berlin", "phone": "+49 30 5550300",
           "email": "Desk@Prenzlauer-Repair.example", "categories": [" tv", "vacuum", "tv"]})
}

/// The names of the partners a list answer holds.
fn names(page: &Value) -> Vec<&str> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect()
}

/// The fields a 422 names.
pub(crate) fn fields(problem: &Value) -> Vec<&str> {
    problem["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no field errors in {problem}"))
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect()
}

backend_test!(
    managers_keep_the_partners_and_dispatchers_read_them,
    |app: TestApp| async move {
        let manager = app.login("manager1@demo.test").await;
        let dispatcher = app.login("dispatcher@demo.test").await;

        // The demo city has a workshop for the large appliances and a supplier of everything.
        let (status, demo) = app.get("/partners", &dispatcher).await;
        assert_eq!(status, StatusCode::OK, "{demo}");
        assert_eq!(names(&demo), ["Spree Appliance Repair", "Havel Wholesale"]);

        let (status, created) = app.post("/partners", &manager, &workshop()).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        assert_eq!(created["kind"], "workshop");
        assert_eq!(created["opens"], "08:30");
        assert_eq!(created["closes"], "17:00");
        assert_eq!(created["email"], "desk@prenzlauer-repair.example");
        assert_eq!(created["categories"], json!(["tv", "vacuum"]));
        assert_eq!(created["active"], true);
        let id = created["id"].as_i64().unwrap();
        let path = format!("/partners/{id}");

        let (status, read) = app.get(&path, &dispatcher).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(read, created);

        // Filters: by kind, and by the product category a partner takes (none listed: all).
        let (_, workshops) = app.get("/partners?kind=workshop", &manager).await;
        assert_eq!(
            names(&workshops),
            ["Spree Appliance Repair", "Prenzlauer Repair"]
        );
        let (_, for_fridges) = app.get("/partners?category=fridge", &manager).await;
        assert_eq!(
            names(&for_fridges),
            ["Spree Appliance Repair", "Havel Wholesale"]
        );
        let (_, for_tvs) = app
            .get("/partners?kind=workshop&category=tv", &manager)
            .await;
        assert_eq!(names(&for_tvs), ["Prenzlauer Repair"]);
        // Pages of one hold every match once, the category filter refilling each page.
        let (_, first) = app.get("/partners?category=tv&limit=1", &manager).await;
        assert_eq!(names(&first), ["Havel Wholesale"]);
        let cursor = first["next_cursor"]
            .as_str()
            .expect("a second page")
            .to_owned();
        let (_, second) = app
            .get(
                &format!("/partners?category=tv&limit=1&cursor={cursor}"),
                &manager,
            )
            .await;
        assert_eq!(names(&second), ["Prenzlauer Repair"]);
        assert!(second["next_cursor"].is_null(), "{second}");

        // A change keeps what it does not name; a null clears the phone.
        let (status, changed) = app
            .patch(&path, &manager, &json!({"closes": "19:30", "phone": null}))
            .await;
        assert_eq!(status, StatusCode::OK, "{changed}");
        assert_eq!(changed["closes"], "19:30");
        assert_eq!(changed["opens"], "08:30");
        assert!(changed["phone"].is_null());
        assert_eq!(changed["email"], created["email"]);
        assert_eq!(changed["categories"], created["categories"]);

        // Retired: gone from the list unless asked for, still readable, and back when revived.
        let (status, retired) = app.patch(&path, &manager, &json!({"active": false})).await;
        assert_eq!(status, StatusCode::OK, "{retired}");
        assert_eq!(retired["active"], false);
        let (_, active) = app.get("/partners?kind=workshop", &dispatcher).await;
        assert_eq!(names(&active), ["Spree Appliance Repair"]);
        let (_, all) = app
            .get("/partners?kind=workshop&include_retired=true", &dispatcher)
            .await;
        assert_eq!(names(&all), ["Spree Appliance Repair", "Prenzlauer Repair"]);
        assert_eq!(app.get(&path, &dispatcher).await.1["active"], false);
        let (_, revived) = app.patch(&path, &manager, &json!({"active": true})).await;
        assert_eq!(revived["active"], true);

        // Heads and admins keep the registry too.
        for email in ["head@demo.test", "admin@demo.test"] {
            let token = app.login(email).await;
            let (status, body) = app
                .patch(
                    &path,
                    &token,
                    &json!({"address": format!("Danziger Strasse 5{}", email.len())}),
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{email}: {body}");
        }

        // Dispatchers read but do not change; customers, dealers and couriers see nothing.
        assert_eq!(
            app.post("/partners", &dispatcher, &workshop()).await.0,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            app.patch(&path, &dispatcher, &json!({"active": false}))
                .await
                .0,
            StatusCode::FORBIDDEN
        );
        for email in [
            "customer1@demo.test",
            "dealer1@demo.test",
            "courier1@demo.test",
        ] {
            let token = app.login(email).await;
            for (status, what) in [
                (app.get("/partners", &token).await.0, "list"),
                (app.get(&path, &token).await.0, "read"),
                (app.post("/partners", &token, &workshop()).await.0, "create"),
                (
                    app.patch(&path, &token, &json!({"active": false})).await.0,
                    "change",
                ),
            ] {
                assert_eq!(status, StatusCode::FORBIDDEN, "{email} {what}");
            }
        }
        let (_, after) = app.get(&path, &manager).await;
        assert_eq!(after["active"], true, "nobody else retired it");
        assert_eq!(after["closes"], "19:30");
    }
);

backend_test!(
    a_partner_is_refused_whole_with_every_wrong_field,
    |app: TestApp| async move {
        let manager = app.login("manager2@demo.test").await;
        let refused = |body: Value| {
            let app = &app;
            let manager = &manager;
            async move {
                let (status, problem) = app.post("/partners", manager, &body).await;
                assert_eq!(
                    status,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "{body}: {problem}"
                );
                problem
            }
        };
        let with = |changes: Value| {
            let mut body = workshop();
            for (k, v) in changes.as_object().unwrap() {
                body[k] = v.clone();
            }
            body
        };

        let problem = refused(with(
            json!({"lat": 91, "email": "not-an-address", "name": ""}),
        ))
        .await;
        assert_eq!(fields(&problem), ["email", "lat", "name"]);
        assert_eq!(
            fields(&refused(with(json!({"kind": "depot"}))).await),
            ["kind"]
        );
        assert_eq!(
            fields(&refused(with(json!({"closes": "08:00"}))).await),
            ["closes"]
        );
        assert_eq!(
            fields(&refused(with(json!({"time_zone": "Mars/Olympus"}))).await),
            ["time_zone"]
        );
        assert_eq!(
            fields(&refused(with(json!({"name": "   "}))).await),
            ["name"]
        );
        // What only the whole partner shows is reported together.
        let problem = refused(with(
            json!({"address": " ", "closes": "08:00", "categories": ["tv", "toaster"]}),
        ))
        .await;
        assert_eq!(fields(&problem), ["address", "closes", "categories[1]"]);
        // Every category must be one the catalogue has: a typo would take nothing.
        let problem = refused(with(json!({"categories": ["tv", "frdge", "dishwasher"]}))).await;
        assert_eq!(fields(&problem), ["categories[1]", "categories[2]"]);
        assert!(
            problem["errors"][0]["message"]
                .as_str()
                .unwrap_or_default()
                .contains("catalogue"),
            "{problem}"
        );
        let (status, body) = app.post("/partners", &manager, &workshop()).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        // The same name twice for one kind is refused; a supplier may share a workshop's name.
        let problem = refused(workshop()).await;
        assert_eq!(fields(&problem), ["name"]);
        let (status, supplier) = app
            .post("/partners", &manager, &with(json!({"kind": "supplier"})))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{supplier}");

        // A change is checked against what it leaves: hours that cross, half a location.
        let path = format!("/partners/{}", body["id"]);
        for (change, field) in [
            (json!({"opens": "18:00"}), "closes"),
            (json!({"lat": 52.5}), "lon"),
            (json!({"categories": ["toaster"]}), "categories[0]"),
            (json!({"phone": "1"}), "phone"),
            (json!({"kind": "supplier"}), "kind"),
        ] {
            let (status, problem) = app.patch(&path, &manager, &change).await;
            assert_eq!(
                status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{change}: {problem}"
            );
            assert_eq!(fields(&problem), [field], "{change}");
        }
        let (_, unchanged) = app.get(&path, &manager).await;
        assert_eq!(unchanged["opens"], "08:30", "nothing half-written");
        assert_eq!(unchanged["categories"], json!(["tv", "vacuum"]));
        assert_eq!(
            app.patch("/partners/999999", &manager, &json!({"active": false}))
                .await
                .0,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            app.get("/partners/999999", &manager).await.0,
            StatusCode::NOT_FOUND
        );
        let (status, problem) = app.get("/partners?kind=depot", &manager).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{problem}");
    }
);

backend_test!(
    two_managers_changing_one_partner_at_once_keep_both_changes,
    |app: TestApp| async move {
        // Each change is merged into the stored partner and written whole: without the row
        // held for the merge, the later write would put back what the other changed.
        let (first, second) = (
            app.login("manager1@demo.test").await,
            app.login("manager2@demo.test").await,
        );
        let (_, partner) = app.post("/partners", &first, &workshop()).await;
        let path = format!("/partners/{}", partner["id"]);
        for round in 0..20 {
            let closes = format!("{}:00", 18 + round % 5);
            let phone = format!("+49 30 555{round:04}");
            let (close_change, phone_change) = (json!({"closes": closes}), json!({"phone": phone}));
            let (a, b) = tokio::join!(
                app.patch(&path, &first, &close_change),
                app.patch(&path, &second, &phone_change),
            );
            assert_eq!((a.0, b.0), (StatusCode::OK, StatusCode::OK), "{a:?} {b:?}");
            let (_, now) = app.get(&path, &first).await;
            assert_eq!(now["closes"], closes.as_str(), "round {round}: {now}");
            assert_eq!(now["phone"], phone.as_str(), "round {round}: {now}");
        }
    }
);
