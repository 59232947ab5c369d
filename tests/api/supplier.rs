//! A replacement collected at a supplier: the decision names a supplier of the product, the
//! new unit travels from the supplier to her door as a shipment (the collection first, one
//! courier), and the exchange there takes the defective unit on to the depot: the planner
//! counts both units, the courier is told what to ask for at the supplier, and she hears of
//! her visit only.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::backend_test;
use crate::contractor::{
    assert_carried, assert_in_hours, assert_one_visit_done, assert_pickup_first, assert_refused,
    assert_room, assert_slots_refused, decide, filed, id, jobs_of, mails_once, partners, place_of,
    planned_stop, route_sheet,
};
use crate::courier::{claim, courier_of, failed, history_of, report, stop_of};
use crate::helpers::TestApp;
use crate::plans::{assert_routes_kept, check_plan, draft_tomorrow, publish, reoptimize};
use crate::remedies::visit;

fn from_supplier(partner: &Value) -> Value {
    json!({"decision": "replacement", "logistics": "supplier", "partner_id": partner["id"]})
}

/// Demo customer `n`'s unit replaced from the demo's supplier: (supplier, decision answer).
async fn replaced_from_supplier(app: &TestApp, n: usize) -> (Value, Value) {
    let manager = app.login("manager1@demo.test").await;
    let (_, supplier) = partners(app, &manager).await;
    let (status, decided) = decide(app, filed(app, n).await, from_supplier(&supplier)).await;
    assert_eq!(status, StatusCode::OK, "{decided}");
    (supplier, decided)
}

/// Job `job` as a plan's stored problem holds it.
async fn stored_job(app: &TestApp, plan: i64, job: i64) -> Value {
    let dispatcher = app.login("dispatcher@demo.test").await;
    let (_, doc) = app
        .get(&format!("/plans/{plan}/problem"), &dispatcher)
        .await;
    let job = job.to_string();
    doc["problem"]["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["id"] == job.as_str())
        .unwrap_or_else(|| panic!("no job {job} in {doc}"))
        .clone()
}

backend_test!(
    a_supplier_must_supply_the_unit_and_nothing_is_written_otherwise,
    |app: TestApp| async move {
        let manager = app.login("manager1@demo.test").await;
        let (workshop, supplier) = partners(&app, &manager).await;
        let washer = filed(&app, 1).await;
        let before = claim(&app, washer).await;
        let cases = [
            (from_supplier(&workshop), "is a workshop, not a supplier"),
            (
                json!({"decision": "replacement", "logistics": "supplier"}),
                "needs the supplier",
            ),
            (
                json!({"decision": "repair", "logistics": "supplier", "partner_id": supplier["id"]}),
                "for replacements",
            ),
            (
                json!({"decision": "replacement", "partner_id": supplier["id"]}),
                "only applies",
            ),
        ];
        for (body, says) in cases {
            assert_refused(&app, washer, &body, says).await;
        }
        // A supplier of fridges only does not supply a washing machine.
        let (status, fridges) = app
            .post(
                "/partners",
                &manager,
                &json!({"kind": "supplier", "name": "Cold Parts", "address": "Eis 2",
                        "lat": 52.5, "lon": 13.4, "opens": "08:00", "closes": "16:00",
                        "time_zone": "Europe/Berlin", "categories": ["fridge"]}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{fridges}");
        assert_refused(&app, washer, &from_supplier(&fridges), "washing_machine").await;

        let after = claim(&app, washer).await;
        assert_eq!(after["status"], before["status"]);
        assert_eq!(after["decision"], Value::Null);
        assert!(jobs_of(&app, washer).await.is_empty());
    }
);

backend_test!(
    a_supplier_replacement_is_collected_there_and_exchanged_at_her_door,
    |app: TestApp| async move {
        let dispatcher = app.login("dispatcher@demo.test").await;
        let (supplier, decided) = replaced_from_supplier(&app, 1).await;
        let claim_id = id(&decided["claim"]);
        assert_eq!(decided["claim"]["decision"]["logistics"], "supplier");
        assert_eq!(decided["claim"]["decision"]["partner_id"], supplier["id"]);
        let seen_claim = decided["claim"].clone();
        let jobs = decided["jobs"].as_array().unwrap();
        assert_eq!(jobs.len(), 2, "{decided}");
        let (collect, exchange) = (&jobs[0], &jobs[1]);
        assert_eq!(collect["kind"], "collect_new");
        assert_eq!(collect["partner_id"], supplier["id"]);
        assert_eq!(collect["address"], supplier["address"]);
        assert_eq!(collect["paired_job_id"], exchange["id"]);
        assert_eq!(exchange["kind"], "exchange");
        assert_eq!(exchange["partner_id"], Value::Null);
        assert_eq!(exchange["address"], seen_claim["address"]);
        assert_eq!(exchange["paired_job_id"], collect["id"]);
        // The new unit in, the old one out.
        let size = collect["pickup_load"].as_i64().unwrap();
        assert!(size > 0);
        assert_eq!(exchange["delivery_load"], size);
        assert_eq!(exchange["pickup_load"], size);
        let (collect, exchange) = (id(collect), id(exchange));
        // Her exchange gets its time with the supplier trip, not from her slot booking.
        assert_slots_refused(&app, &seen_claim, "supplier").await;

        // One courier collects and then exchanges, in the supplier's hours (07:00-16:00 in
        // Berlin), with room for the new unit on the way and the old one after; the stored
        // problem counts the old unit from her door on, and the plan passes the checker.
        let plan = draft_tomorrow(&app, &dispatcher).await;
        check_plan(&app, &dispatcher, plan).await;
        let (status, routes) = app.get(&format!("/plans/{plan}/routes"), &dispatcher).await;
        assert_eq!(status, StatusCode::OK, "{routes}");
        assert_carried(&routes, collect, exchange);
        assert_room(&app, plan, &routes, (collect, exchange), size).await;
        let stored = stored_job(&app, plan, exchange).await;
        assert_eq!(stored["pickup"], json!([size]), "{stored}");
        assert_in_hours(&routes, collect, (7, 16));
        publish(&app, &dispatcher, plan).await;
        let seen = claim(&app, claim_id).await;
        let planned = history_of(&seen, "visit_planned");
        assert_eq!(planned.len(), 1, "{planned:?}");

        // At the supplier the courier asks for the product; at her door he brings it and
        // takes her unit.
        let (_, token, route) = courier_of(&app, collect).await;
        let there = stop_of(&route, collect).unwrap();
        assert_eq!(there["kind"], "collect_new");
        assert_eq!(there["name"], supplier["name"]);
        assert_eq!(there["phone"], supplier["phone"]);
        assert_eq!(there["take"]["sku"], "WM-700", "{there}");
        assert_eq!(there["take"]["serial"], Value::Null, "{there}");
        let door = stop_of(&route, exchange).unwrap();
        assert_eq!(door["bring"]["sku"], "WM-700", "{door}");
        assert_eq!(door["take"]["serial"], "DEMO-0001", "{door}");
        // His loads count the new unit on board between the two stops (the plan's stated
        // loads leave it out, as its problem does).
        let planned_load = |job: i64| planned_stop(&routes, job)["load"].as_i64().unwrap();
        assert_eq!(there["load"], planned_load(collect) + size, "{there}");
        assert_eq!(door["load"], planned_load(exchange), "{door}");
        let text = route_sheet(&app, &token).await;
        assert!(text.contains("collect the replacement"), "{text}");
        assert!(text.contains("Take: new unit"), "{text}");
        assert!(text.contains(supplier["name"].as_str().unwrap()), "{text}");

        // Not exchanged before it is collected; then the claim follows the two stops.
        assert_pickup_first(&app, &token, exchange, collect).await;
        visit(&app, collect, true).await;
        assert_eq!(claim(&app, claim_id).await["status"], "in_fulfilment");
        visit(&app, exchange, true).await;
        assert_eq!(
            claim(&app, claim_id).await["status"],
            "quality_control",
            "the old unit at the depot"
        );
        // Her mails: her exchange's "visit done", nothing for the supplier stop. The courier's
        // departure to her comes after the collection's events, so once its mail is there,
        // a mail for the collection would be too.
        mails_once(&app, claim_id, "courier_on_the_way").await;
        assert_one_visit_done(&app, claim_id, "visit_done").await;
    }
);

backend_test!(
    a_re_optimisation_plans_a_supplier_replacement_decided_after_publishing,
    |app: TestApp| async move {
        let dispatcher = app.login("dispatcher@demo.test").await;
        // One replacement from the supplier is published before the re-optimisation.
        let (_, early) = replaced_from_supplier(&app, 2).await;
        let published = (id(&early["jobs"][0]), id(&early["jobs"][1]));
        let early_size = early["jobs"][0]["pickup_load"].as_i64().unwrap();
        let plan = draft_tomorrow(&app, &dispatcher).await;
        publish(&app, &dispatcher, plan).await;
        let (_, routes) = app.get(&format!("/plans/{plan}/routes"), &dispatcher).await;
        assert_carried(&routes, published.0, published.1);

        let (_, decided) = replaced_from_supplier(&app, 1).await;
        let (collect, exchange) = (id(&decided["jobs"][0]), id(&decided["jobs"][1]));
        let size = decided["jobs"][0]["pickup_load"].as_i64().unwrap();
        let new_plan = reoptimize(&app, &dispatcher, plan).await;
        check_plan(&app, &dispatcher, new_plan).await;
        let (_, new_routes) = app
            .get(&format!("/plans/{new_plan}/routes"), &dispatcher)
            .await;
        // The pair is inserted whole, in order, with room for the unit on board; every
        // published visit keeps its courier and order.
        assert_carried(&new_routes, collect, exchange);
        assert_room(&app, new_plan, &new_routes, (collect, exchange), size).await;
        assert_routes_kept(&routes, &new_routes, &[collect, exchange]);
        // The published pair stays whole, stored as a new one is: nothing counted in transit
        // (the unit is added where it is on board), the old unit from her door on.
        assert_carried(&new_routes, published.0, published.1);
        assert_room(&app, new_plan, &new_routes, published, early_size).await;
        let (collected, exchanged) = (
            stored_job(&app, new_plan, published.0).await,
            stored_job(&app, new_plan, published.1).await,
        );
        assert_eq!(collected["pickup"], json!([0]));
        assert_eq!(exchanged["delivery"], json!([0]));
        assert_eq!(exchanged["pickup"], json!([early_size]));
    }
);

backend_test!(
    an_exchange_that_failed_after_its_collection_waits_for_the_next_day_s_plan,
    |app: TestApp| async move {
        let dispatcher = app.login("dispatcher@demo.test").await;
        let (_, decided) = replaced_from_supplier(&app, 1).await;
        let (collect, exchange) = (id(&decided["jobs"][0]), id(&decided["jobs"][1]));
        let plan = draft_tomorrow(&app, &dispatcher).await;
        publish(&app, &dispatcher, plan).await;

        // The new unit is on his van and she is not home: it stays with him, not with
        // another courier today.
        visit(&app, collect, true).await;
        let (_, token, _) = courier_of(&app, exchange).await;
        let (status, body) =
            report(&app, &token, exchange, "not-home", &failed("nobody home")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let new_plan = reoptimize(&app, &dispatcher, plan).await;
        check_plan(&app, &dispatcher, new_plan).await;
        let (_, routes) = app
            .get(&format!("/plans/{new_plan}/routes"), &dispatcher)
            .await;
        assert_eq!(place_of(&routes, exchange), None, "{routes}");
        let left = routes["unassigned"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["job_id"] == exchange)
            .unwrap_or_else(|| panic!("{routes}"));
        assert_eq!(left["reason"], "shipment_needs_new_plan");
    }
);
