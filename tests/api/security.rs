//! The role and owner matrix: which role may call which endpoint (403 for the others, 401
//! without a token), and that another owner's claim is not found (404, never 403).

use api::auth::Role;
use reqwest::header::{HeaderMap, CONTENT_TYPE};
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde_json::{json, Value};

use crate::backend_test;
use crate::helpers::{claim_body, read, upload, TestApp, PNG_1X1};

const ROLES: [Role; 7] = [
    Role::Customer,
    Role::Dealer,
    Role::Manager,
    Role::Head,
    Role::Dispatcher,
    Role::Courier,
    Role::Admin,
];

/// The demo login used for each role.
fn login_of(role: Role) -> &'static str {
    match role {
        Role::Customer => "customer1@demo.test",
        Role::Dealer => "dealer1@demo.test",
        Role::Manager => "manager1@demo.test",
        Role::Head => "head@demo.test",
        Role::Dispatcher => "dispatcher@demo.test",
        Role::Courier => "courier1@demo.test",
        Role::Admin => "admin@demo.test",
    }
}

#[derive(Debug, Clone, Copy)]
enum Endpoint {
    CreateUser,
    ListUsers,
    UpdateUser,
    CreateProduct,
    CreateSale,
    ImportSales,
    Warranty,
    CreateClaim,
    ListClaims,
    GetClaim,
    Transition,
    Decide,
    Comment,
    Reassign,
    Upload,
    Download,
    CreatePlan,
    ListPlans,
    GetPlan,
    MyRoute,
    PostPositions,
    CourierPositions,
    ListJobs,
}

const CLAIM_READERS: &[Role] = &[
    Role::Customer,
    Role::Dealer,
    Role::Manager,
    Role::Head,
    Role::Admin,
];
const REGISTRARS: &[Role] = &[Role::Admin, Role::Head, Role::Manager];
const CLAIM_HANDLERS: &[Role] = &[Role::Manager, Role::Head];

/// Who may call what, and the success status: from the role guards in
/// `api/src/auth/extract.rs` and the handlers' signatures.
const POLICY: &[(Endpoint, &[Role], StatusCode)] = &[
    (Endpoint::CreateUser, &[Role::Admin], StatusCode::CREATED),
    (Endpoint::ListUsers, &[Role::Admin], StatusCode::OK),
    (
        Endpoint::UpdateUser,
        &[Role::Admin, Role::Head],
        StatusCode::OK,
    ),
    (Endpoint::CreateProduct, REGISTRARS, StatusCode::CREATED),
    (Endpoint::CreateSale, REGISTRARS, StatusCode::CREATED),
    (Endpoint::ImportSales, REGISTRARS, StatusCode::OK),
    (
        Endpoint::Warranty,
        &[
            Role::Admin,
            Role::Head,
            Role::Manager,
            Role::Dealer,
            Role::Dispatcher,
        ],
        StatusCode::OK,
    ),
    (
        Endpoint::CreateClaim,
        &[Role::Customer, Role::Dealer],
        StatusCode::CREATED,
    ),
    (Endpoint::ListClaims, CLAIM_READERS, StatusCode::OK),
    (Endpoint::GetClaim, CLAIM_READERS, StatusCode::OK),
    (Endpoint::Transition, CLAIM_HANDLERS, StatusCode::OK),
    (Endpoint::Decide, CLAIM_HANDLERS, StatusCode::OK),
    (Endpoint::Comment, CLAIM_READERS, StatusCode::CREATED),
    (Endpoint::Reassign, &[Role::Head], StatusCode::OK),
    (Endpoint::Upload, CLAIM_READERS, StatusCode::CREATED),
    (Endpoint::Download, CLAIM_READERS, StatusCode::OK),
    (
        Endpoint::ListJobs,
        &[Role::Dispatcher, Role::Manager, Role::Head, Role::Admin],
        StatusCode::OK,
    ),
    (Endpoint::CreatePlan, DISPATCH, StatusCode::ACCEPTED),
    (Endpoint::ListPlans, DISPATCH, StatusCode::OK),
    (Endpoint::GetPlan, DISPATCH, StatusCode::OK),
    (Endpoint::MyRoute, &[Role::Courier], StatusCode::OK),
    (
        Endpoint::PostPositions,
        &[Role::Courier],
        StatusCode::ACCEPTED,
    ),
    (Endpoint::CourierPositions, DISPATCH, StatusCode::OK),
];
const DISPATCH: &[Role] = &[Role::Dispatcher, Role::Admin];

/// Everything the matrix needs: a token per role and a claim every claim reader can see.
struct World {
    tokens: Vec<(Role, String)>,
    manager1: i64,
    /// Filed by dealer1 for customer1's serial and assigned to manager1: customer1, dealer1,
    /// manager1, the head and the admin all see it.
    claim: i64,
    attachment: i64,
    /// A fresh claim of manager1 per role allowed to move or decide claims.
    transition_claims: Vec<(Role, i64)>,
    decision_claims: Vec<(Role, i64)>,
    /// The user the PATCH changes (manager2, marked present).
    patch_target: i64,
    /// A plan of tomorrow, queued by the dispatcher.
    plan: i64,
}

impl World {
    async fn build(app: &TestApp) -> Self {
        let mut tokens = Vec::new();
        for role in ROLES {
            tokens.push((role, app.login(login_of(role)).await));
        }
        let token = |role: Role| {
            tokens
                .iter()
                .find(|(r, _)| *r == role)
                .map(|(_, t)| t.clone())
                .unwrap()
        };
        let manager1 = app.user_id("manager1@demo.test").await;
        let manager2 = app.user_id("manager2@demo.test").await;
        let (dealer, head) = (token(Role::Dealer), token(Role::Head));
        let claim = claim_assigned_to(app, &dealer, &head, manager1).await;
        let (status, body) = upload(
            app,
            &token(Role::Customer),
            claim,
            "photo.png",
            PNG_1X1.to_vec(),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let attachment = body["id"].as_i64().unwrap();
        let mut transition_claims = Vec::new();
        let mut decision_claims = Vec::new();
        for role in CLAIM_HANDLERS {
            transition_claims.push((
                *role,
                claim_assigned_to(app, &dealer, &head, manager1).await,
            ));
            decision_claims.push((
                *role,
                claim_assigned_to(app, &dealer, &head, manager1).await,
            ));
        }
        let (status, plan) = app
            .post(
                "/plans",
                &token(Role::Dispatcher),
                &json!({"date": crate::plans::tomorrow()}),
            )
            .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{plan}");
        Self {
            plan: plan["id"].as_i64().unwrap(),
            tokens,
            manager1,
            claim,
            attachment,
            transition_claims,
            decision_claims,
            patch_target: manager2,
        }
    }

    fn token(&self, role: Role) -> &str {
        self.tokens
            .iter()
            .find(|(r, _)| *r == role)
            .map(|(_, t)| t.as_str())
            .unwrap()
    }

    /// The request for `endpoint` as `role` (no token for `None`); `n` keeps created names unique.
    fn request(
        &self,
        app: &TestApp,
        endpoint: Endpoint,
        role: Option<Role>,
        n: usize,
    ) -> RequestBuilder {
        let token = role.map(|r| self.token(r));
        let own = |list: &[(Role, i64)]| {
            list.iter()
                .find(|(r, _)| Some(*r) == role)
                .map_or(self.claim, |(_, id)| *id)
        };
        let claim = self.claim;
        match endpoint {
            Endpoint::CreateUser => app.request(Method::POST, "/users", token).json(&json!({
                "email": format!("matrix{n}@demo.test"),
                "name": "Matrix User",
                "role": "dispatcher",
                "password": "a-long-password",
            })),
            Endpoint::ListUsers => app.request(Method::GET, "/users", token),
            Endpoint::UpdateUser => app
                .request(
                    Method::PATCH,
                    &format!("/users/{}", self.patch_target),
                    token,
                )
                .json(&json!({"absent": false})),
            Endpoint::CreateProduct => app.request(Method::POST, "/products", token).json(&json!({
                "sku": format!("MATRIX-{n}"),
                "name": "Kettle",
                "category": "kettle",
                "warranty_months": 12,
            })),
            Endpoint::CreateSale => app.request(Method::POST, "/sales", token).json(&json!({
                "serial_no": format!("MATRIX-SALE-{n}"),
                "sku": "WM-700",
                "sold_at": "2026-01-15",
            })),
            Endpoint::ImportSales => app
                .request(Method::POST, "/sales/import", token)
                .header(CONTENT_TYPE, "text/csv")
                .body(format!(
                    "serial_no,sku,sold_at\nMATRIX-IMPORT-{n},WM-700,2026-01-15\n"
                )),
            Endpoint::Warranty => app.request(Method::GET, "/warranty/DEMO-0001", token),
            Endpoint::CreateClaim => app
                .request(Method::POST, "/claims", token)
                .json(&claim_body("DEMO-0001")),
            Endpoint::ListClaims => app.request(Method::GET, "/claims", token),
            Endpoint::GetClaim => app.request(Method::GET, &format!("/claims/{claim}"), token),
            Endpoint::Transition => app
                .request(
                    Method::POST,
                    &format!("/claims/{}/transition", own(&self.transition_claims)),
                    token,
                )
                .json(&json!({"to": "info_check"})),
            Endpoint::Decide => app
                .request(
                    Method::POST,
                    &format!("/claims/{}/decision", own(&self.decision_claims)),
                    token,
                )
                .json(&json!({"decision": "repair"})),
            Endpoint::Comment => app
                .request(Method::POST, &format!("/claims/{claim}/comments"), token)
                .json(&json!({"text": "Any news?"})),
            Endpoint::Reassign => app
                .request(Method::POST, &format!("/claims/{claim}/reassign"), token)
                .json(&json!({"manager_id": self.manager1})),
            Endpoint::Upload => app
                .request(Method::POST, &format!("/claims/{claim}/attachments"), token)
                .multipart(png_form()),
            Endpoint::Download => app.request(
                Method::GET,
                &format!("/claims/{claim}/attachments/{}", self.attachment),
                token,
            ),
            Endpoint::ListJobs => app.request(Method::GET, "/jobs", token),
            Endpoint::CreatePlan => app.request(Method::POST, "/plans", token).json(&json!({
                "date": crate::plans::tomorrow(),
                "time_limit_ms": 100,
            })),
            Endpoint::ListPlans => app.request(Method::GET, "/plans", token),
            Endpoint::GetPlan => app.request(Method::GET, &format!("/plans/{}", self.plan), token),
            Endpoint::MyRoute => app.request(Method::GET, "/me/route", token),
            Endpoint::PostPositions => app
                .request(Method::POST, "/me/positions", token)
                .json(&json!({"points": [{"at": chrono::Utc::now(), "lat": 52.5, "lon": 13.4}]})),
            Endpoint::CourierPositions => app.request(Method::GET, "/couriers/positions", token),
        }
    }
}

fn png_form() -> reqwest::multipart::Form {
    let part = reqwest::multipart::Part::bytes(PNG_1X1.to_vec())
        .file_name("photo.png")
        .mime_str("image/png")
        .unwrap();
    reqwest::multipart::Form::new().part("file", part)
}

/// Dealer1 files a claim for customer1's serial; the head gives it to `manager`.
async fn claim_assigned_to(app: &TestApp, dealer: &str, head: &str, manager: i64) -> i64 {
    let id = app.file_claim(dealer, "DEMO-0001").await["id"]
        .as_i64()
        .unwrap();
    let (status, body) = app
        .post(
            &format!("/claims/{id}/reassign"),
            head,
            &json!({"manager_id": manager}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["assignee_id"], manager, "{body}");
    id
}

async fn split(response: Response) -> (StatusCode, HeaderMap, Value) {
    let headers = response.headers().clone();
    let (status, body) = read(response).await;
    (status, headers, body)
}

/// What is wrong with an error answer that should be RFC 9457 problem+json with `status`.
fn problem_defects(status: StatusCode, headers: &HeaderMap, body: &Value) -> Vec<String> {
    let mut defects = Vec::new();
    let content_type = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !content_type.starts_with("application/problem+json") {
        defects.push(format!("content-type `{content_type}`"));
    }
    if body["status"] != status.as_u16() {
        defects.push(format!(
            "body status {} for HTTP {}",
            body["status"],
            status.as_u16()
        ));
    }
    if !body["type"]
        .as_str()
        .is_some_and(|t| t.starts_with("/problems/"))
    {
        defects.push(format!("type {}", body["type"]));
    }
    if body["title"].as_str().unwrap_or_default().is_empty()
        || body["detail"].as_str().unwrap_or_default().is_empty()
    {
        defects.push("title or detail missing".to_owned());
    }
    defects
}

fn assert_problem(
    what: &str,
    expected: StatusCode,
    (status, headers, body): &(StatusCode, HeaderMap, Value),
) {
    assert_eq!(*status, expected, "{what}: {body}");
    let defects = problem_defects(*status, headers, body);
    assert!(defects.is_empty(), "{what}: {defects:?} in {body}");
}

backend_test!(
    every_endpoint_admits_exactly_its_roles,
    |app: TestApp| async move {
        let world = World::build(&app).await;
        let mut failures = Vec::new();
        let mut n = 0;
        for (endpoint, allowed, success) in POLICY {
            for role in ROLES.into_iter().map(Some).chain([None]) {
                n += 1;
                let (status, headers, body) = split(
                    world
                        .request(&app, *endpoint, role, n)
                        .send()
                        .await
                        .unwrap(),
                )
                .await;
                let expected = match role {
                    None => StatusCode::UNAUTHORIZED,
                    Some(r) if allowed.contains(&r) => *success,
                    Some(_) => StatusCode::FORBIDDEN,
                };
                let who = role.map_or("no token", |r| r.as_str());
                if status != expected {
                    failures.push(format!(
                        "{endpoint:?} as {who}: expected {expected}, got {status}: {body}"
                    ));
                } else if !status.is_success() {
                    for defect in problem_defects(status, &headers, &body) {
                        failures.push(format!("{endpoint:?} as {who}: {defect}"));
                    }
                }
            }
        }
        assert!(
            failures.is_empty(),
            "{} mismatches:\n{}",
            failures.len(),
            failures.join("\n")
        );
    }
);

backend_test!(
    another_customers_claim_is_not_found,
    |app: TestApp| async move {
        let alice = app.login("customer1@demo.test").await;
        let bob = app.login("customer2@demo.test").await;
        let claim = app.file_claim(&alice, "DEMO-0001").await["id"]
            .as_i64()
            .unwrap();
        let (status, body) = upload(&app, &alice, claim, "photo.png", PNG_1X1.to_vec()).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let attachment = body["id"].as_i64().unwrap();
        let (status, _) = app.get(&format!("/claims/{claim}"), &alice).await;
        assert_eq!(status, StatusCode::OK, "the owner sees it");

        // Bob gets the same answer as for an id that does not exist.
        let (status, body) = app.get(&format!("/claims/{claim}"), &bob).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
        let (status, missing) = app.get("/claims/99999999", &bob).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(
            body, missing,
            "another's claim is indistinguishable from a missing one"
        );
        let response = app
            .request(Method::GET, &format!("/claims/{claim}"), Some(&bob))
            .send()
            .await
            .unwrap();
        assert_problem(
            "another's claim",
            StatusCode::NOT_FOUND,
            &split(response).await,
        );

        let (status, body) = app
            .post(
                &format!("/claims/{claim}/comments"),
                &bob,
                &json!({"text": "mine?"}),
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "comment: {body}");
        let (status, body) = upload(&app, &bob, claim, "photo.png", PNG_1X1.to_vec()).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "upload: {body}");
        let (status, body) = app
            .get(&format!("/claims/{claim}/attachments/{attachment}"), &bob)
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "download: {body}");

        // Nor through one of his own claims with her attachment's id.
        let own = app.file_claim(&bob, "DEMO-0002").await["id"]
            .as_i64()
            .unwrap();
        let (status, body) = app
            .get(&format!("/claims/{own}/attachments/{attachment}"), &bob)
            .await;
        assert_eq!(
            status,
            StatusCode::NOT_FOUND,
            "download via own claim: {body}"
        );

        // Nothing of Bob's attempts reached her claim.
        let (status, body) = app.get(&format!("/claims/{claim}"), &alice).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["attachments"].as_array().unwrap().len(), 1, "{body}");
        let comments = body["history"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["kind"] == "comment")
            .count();
        assert_eq!(comments, 0, "{body}");
        let (status, body) = app
            .get(&format!("/claims/{claim}/attachments/{attachment}"), &alice)
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
);

backend_test!(
    a_dealer_sees_only_the_claims_he_filed,
    |app: TestApp| async move {
        let dealer = app.login("dealer1@demo.test").await;
        let customer = app.login("customer3@demo.test").await;
        let dealer_id = app.user_id("dealer1@demo.test").await;
        // A claim the customer filed herself (the demo has one too) is not his.
        let hers = app.file_claim(&customer, "DEMO-0003").await["id"]
            .as_i64()
            .unwrap();
        let (status, body) = app.get(&format!("/claims/{hers}"), &dealer).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
        let (status, body) = app
            .post(
                &format!("/claims/{hers}/comments"),
                &dealer,
                &json!({"text": "hello"}),
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
        let (status, body) = upload(&app, &dealer, hers, "photo.png", PNG_1X1.to_vec()).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");

        // One he filed for the same customer is his (and hers).
        let his = app.file_claim(&dealer, "DEMO-0003").await["id"]
            .as_i64()
            .unwrap();
        let (status, body) = app.get(&format!("/claims/{his}"), &dealer).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (status, _) = app.get(&format!("/claims/{his}"), &customer).await;
        assert_eq!(
            status,
            StatusCode::OK,
            "the customer sees a claim filed for her"
        );

        let (status, list) = app.get("/claims?limit=200", &dealer).await;
        assert_eq!(status, StatusCode::OK);
        let items = list["items"].as_array().unwrap();
        assert!(items.iter().any(|c| c["id"] == his), "{list}");
        for item in items {
            assert_eq!(
                item["filed_by"], dealer_id,
                "dealer's list holds another's claim: {item}"
            );
        }
    }
);

backend_test!(
    a_dealer_filing_for_a_known_customer_learns_nothing_of_her,
    |app: TestApp| async move {
        let dealer = app.login("dealer1@demo.test").await;
        let head = app.login("head@demo.test").await;
        let customer = app.login("customer2@demo.test").await;
        let (_, her) = app.get("/claims?limit=200", &customer).await;
        let known_claims: Vec<i64> = her["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_i64().unwrap())
            .collect();
        let mut claim = crate::helpers::claim_body("UNREGISTERED-DEALER-1");
        claim["customer"] = json!({"name": "A. Person", "email": "CUSTOMER2@demo.test"});
        let (status, filed) = app.post("/claims", &dealer, &claim).await;
        assert_eq!(status, StatusCode::CREATED, "{filed}");
        let id = filed["id"].as_i64().unwrap();
        let (status, seen) = app.get(&format!("/claims/{id}"), &dealer).await;
        assert_eq!(status, StatusCode::OK, "{seen}");
        let (_, listed) = app.get("/claims?limit=200", &dealer).await;
        let admin = app.login("admin@demo.test").await;
        let (_, users) = app.get("/users?role=customer&limit=200", &admin).await;
        let her_name = users["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["email"] == "customer2@demo.test")
            .unwrap()["name"]
            .as_str()
            .unwrap()
            .to_owned();
        for answer in [&filed, &seen, &listed] {
            // Neither her record, her stored name nor her other claims reach him.
            let text = answer.to_string();
            assert!(!text.contains("customer_id"), "{text}");
            assert!(!text.contains(&her_name), "{her_name} in {text}");
        }
        for other in &known_claims {
            let listed = listed["items"].as_array().unwrap();
            assert!(
                !listed.iter().any(|c| c["id"] == *other),
                "claim {other} of hers listed to the dealer"
            );
        }
        // The claim is hers all the same: she sees it and the head sees whose it is.
        let (status, _) = app.get(&format!("/claims/{id}"), &customer).await;
        assert_eq!(status, StatusCode::OK);
        let (_, for_head) = app.get(&format!("/claims/{id}"), &head).await;
        assert!(for_head["customer_id"].is_i64(), "{for_head}");
    }
);

backend_test!(
    a_manager_reaches_only_claims_assigned_to_him,
    |app: TestApp| async move {
        let manager1 = app.login("manager1@demo.test").await;
        let manager2 = app.login("manager2@demo.test").await;
        let head = app.login("head@demo.test").await;
        let dealer = app.login("dealer1@demo.test").await;
        let manager1_id = app.user_id("manager1@demo.test").await;

        let claim = claim_assigned_to(&app, &dealer, &head, manager1_id).await;
        let (status, before) = app.get(&format!("/claims/{claim}"), &manager1).await;
        assert_eq!(status, StatusCode::OK, "{before}");

        // Manager2 can neither read nor act on it.
        let (status, body) = app.get(&format!("/claims/{claim}"), &manager2).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "read: {body}");
        let response = app
            .request(
                Method::POST,
                &format!("/claims/{claim}/transition"),
                Some(&manager2),
            )
            .json(&json!({"to": "info_check"}))
            .send()
            .await
            .unwrap();
        assert_problem(
            "transition by manager2",
            StatusCode::NOT_FOUND,
            &split(response).await,
        );
        let (status, body) = app
            .post(
                &format!("/claims/{claim}/decision"),
                &manager2,
                &json!({"decision": "repair"}),
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "decision: {body}");
        let (status, body) = app
            .post(
                &format!("/claims/{claim}/comments"),
                &manager2,
                &json!({"text": "mine"}),
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "comment: {body}");
        let (status, body) = upload(&app, &manager2, claim, "photo.png", PNG_1X1.to_vec()).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "upload: {body}");
        let (status, body) = app.get(&format!("/claims/{claim}"), &manager1).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            body["status"], "new",
            "manager2's attempts changed nothing: {body}"
        );
        assert_eq!(body["version"], before["version"], "{body}");

        // Manager1 moves it on; the head, who sees all, moves it further and decides it.
        let (status, body) = app
            .post(
                &format!("/claims/{claim}/transition"),
                &manager1,
                &json!({"to": "info_check"}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (status, body) = app.get(&format!("/claims/{claim}"), &head).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (status, body) = app
            .post(
                &format!("/claims/{claim}/transition"),
                &head,
                &json!({"to": "diagnostics"}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (status, body) = app
            .post(
                &format!("/claims/{claim}/comments"),
                &head,
                &json!({"text": "checked"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let (status, body) = app
            .post(
                &format!("/claims/{claim}/decision"),
                &head,
                &json!({"decision": "repair"}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["claim"]["status"], "approved", "{body}");

        // Once the head gives it to manager2, the roles swap.
        let manager2_id = app.user_id("manager2@demo.test").await;
        let (status, body) = app
            .post(
                &format!("/claims/{claim}/reassign"),
                &head,
                &json!({"manager_id": manager2_id}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (status, _) = app.get(&format!("/claims/{claim}"), &manager2).await;
        assert_eq!(status, StatusCode::OK);
        let (status, _) = app.get(&format!("/claims/{claim}"), &manager1).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
);

backend_test!(
    lists_hold_only_the_callers_claims_and_jobs,
    |app: TestApp| async move {
        let admin = app.login("admin@demo.test").await;
        let head = app.login("head@demo.test").await;
        let dealer = app.login("dealer1@demo.test").await;
        let manager1 = app.login("manager1@demo.test").await;
        let manager2 = app.login("manager2@demo.test").await;
        let manager1_id = app.user_id("manager1@demo.test").await;
        let manager2_id = app.user_id("manager2@demo.test").await;

        // A decided claim with jobs for each manager.
        let mut decided = Vec::new();
        for (manager, id) in [(&manager1, manager1_id), (&manager2, manager2_id)] {
            let claim = claim_assigned_to(&app, &dealer, &head, id).await;
            let (status, body) = app
                .post(
                    &format!("/claims/{claim}/decision"),
                    manager,
                    &json!({"decision": "repair"}),
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{body}");
            let jobs: Vec<i64> = body["jobs"]
                .as_array()
                .unwrap()
                .iter()
                .map(|j| j["id"].as_i64().unwrap())
                .collect();
            assert!(!jobs.is_empty(), "a repair creates courier jobs: {body}");
            decided.push((claim, jobs));
        }

        // Customers: only their own claims.
        let (status, users) = app.get("/users?limit=200", &admin).await;
        assert_eq!(status, StatusCode::OK);
        let customer_of = |email: &str| {
            users["items"]
                .as_array()
                .unwrap()
                .iter()
                .find(|u| u["email"] == email)
                .unwrap()["customer_id"]
                .as_i64()
                .unwrap()
        };
        for n in 1..=3 {
            let email = format!("customer{n}@demo.test");
            let token = app.login(&email).await;
            let (status, list) = app.get("/claims?limit=200", &token).await;
            assert_eq!(status, StatusCode::OK);
            let items = list["items"].as_array().unwrap();
            assert!(!items.is_empty(), "{email} has claims: {list}");
            for item in items {
                assert_eq!(
                    item["customer_id"],
                    customer_of(&email),
                    "{email} sees another's claim: {item}"
                );
            }
            // Asking for more does not widen the scope.
            let (status, list) = app
                .get(&format!("/claims?limit=200&assignee={manager1_id}"), &token)
                .await;
            assert_eq!(status, StatusCode::OK);
            for item in list["items"].as_array().unwrap() {
                assert_eq!(
                    item["customer_id"],
                    customer_of(&email),
                    "{email} sees another's claim: {item}"
                );
            }
        }

        // Managers: only claims assigned to them; the head sees all of them.
        let (status, all) = app.get("/claims?limit=200", &head).await;
        assert_eq!(status, StatusCode::OK);
        let all = all["items"].as_array().unwrap().clone();
        for (token, id, own_claim, other_claim) in [
            (&manager1, manager1_id, decided[0].0, decided[1].0),
            (&manager2, manager2_id, decided[1].0, decided[0].0),
        ] {
            let (status, list) = app.get("/claims?limit=200", token).await;
            assert_eq!(status, StatusCode::OK);
            let items = list["items"].as_array().unwrap();
            for item in items {
                assert_eq!(
                    item["assignee_id"], id,
                    "manager {id} sees another's claim: {item}"
                );
            }
            assert!(items.iter().any(|c| c["id"] == own_claim), "{list}");
            assert!(!items.iter().any(|c| c["id"] == other_claim), "{list}");
            let assigned = all.iter().filter(|c| c["assignee_id"] == id).count();
            assert_eq!(items.len(), assigned, "manager {id} sees all his claims");
            // Filtering by the other manager does not widen the scope.
            let other = if id == manager1_id {
                manager2_id
            } else {
                manager1_id
            };
            let (status, list) = app
                .get(&format!("/claims?limit=200&assignee={other}"), token)
                .await;
            assert_eq!(status, StatusCode::OK);
            assert_eq!(list["items"].as_array().unwrap().len(), 0, "{list}");
        }

        // Jobs: a manager sees the jobs of his claims only; the dispatcher sees them all.
        let dispatcher = app.login("dispatcher@demo.test").await;
        let (status, every_job) = app.get("/jobs?limit=200", &dispatcher).await;
        assert_eq!(status, StatusCode::OK);
        let every_job: Vec<i64> = every_job["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|j| j["id"].as_i64().unwrap())
            .collect();
        for (_, jobs) in &decided {
            assert!(
                jobs.iter().all(|j| every_job.contains(j)),
                "dispatcher sees every job"
            );
        }
        for (index, (token, id)) in [(&manager1, manager1_id), (&manager2, manager2_id)]
            .into_iter()
            .enumerate()
        {
            let (status, list) = app.get("/jobs?limit=200", token).await;
            assert_eq!(status, StatusCode::OK);
            let items = list["items"].as_array().unwrap();
            for job in items {
                let claim_id = job["claim_id"].as_i64().unwrap();
                let (status, claim) = app.get(&format!("/claims/{claim_id}"), &head).await;
                assert_eq!(status, StatusCode::OK);
                assert_eq!(
                    claim["assignee_id"], id,
                    "manager {id} sees job {} of another's claim",
                    job["id"]
                );
            }
            let ids: Vec<i64> = items.iter().map(|j| j["id"].as_i64().unwrap()).collect();
            let (own_jobs, other_jobs) = (&decided[index].1, &decided[1 - index].1);
            assert!(
                own_jobs.iter().all(|j| ids.contains(j)),
                "manager {id} sees his jobs: {list}"
            );
            assert!(
                !other_jobs.iter().any(|j| ids.contains(j)),
                "manager {id} sees another's jobs: {list}"
            );
            // Naming the other manager's claim does not help.
            let other_claim = decided[1 - index].0;
            let (status, list) = app
                .get(&format!("/jobs?claim_id={other_claim}"), token)
                .await;
            assert_eq!(status, StatusCode::OK);
            assert_eq!(list["items"].as_array().unwrap().len(), 0, "{list}");
        }
    }
);

backend_test!(
    errors_are_problem_json_with_their_status,
    |app: TestApp| async move {
        let customer = app.login("customer1@demo.test").await;
        let other = app.login("customer2@demo.test").await;
        let claim = app.file_claim(&customer, "DEMO-0001").await["id"]
            .as_i64()
            .unwrap();

        let send = |method: Method, path: &str, token: Option<&str>| {
            app.request(method, path, token).send()
        };
        assert_problem(
            "no token",
            StatusCode::UNAUTHORIZED,
            &split(send(Method::GET, "/claims", None).await.unwrap()).await,
        );
        assert_problem(
            "garbage token",
            StatusCode::UNAUTHORIZED,
            &split(send(Method::GET, "/claims", Some("garbage")).await.unwrap()).await,
        );
        assert_problem(
            "no token on a write",
            StatusCode::UNAUTHORIZED,
            &split(
                app.request(Method::POST, "/claims", None)
                    .json(&claim_body("DEMO-0001"))
                    .send()
                    .await
                    .unwrap(),
            )
            .await,
        );
        assert_problem(
            "wrong role",
            StatusCode::FORBIDDEN,
            &split(send(Method::GET, "/users", Some(&customer)).await.unwrap()).await,
        );
        assert_problem(
            "wrong role on jobs",
            StatusCode::FORBIDDEN,
            &split(send(Method::GET, "/jobs", Some(&customer)).await.unwrap()).await,
        );
        assert_problem(
            "another's claim",
            StatusCode::NOT_FOUND,
            &split(
                send(Method::GET, &format!("/claims/{claim}"), Some(&other))
                    .await
                    .unwrap(),
            )
            .await,
        );
        assert_problem(
            "missing claim",
            StatusCode::NOT_FOUND,
            &split(
                send(Method::GET, "/claims/99999999", Some(&customer))
                    .await
                    .unwrap(),
            )
            .await,
        );
        assert_problem(
            "non-numeric id",
            StatusCode::NOT_FOUND,
            &split(
                send(Method::GET, "/claims/not-a-number", Some(&customer))
                    .await
                    .unwrap(),
            )
            .await,
        );
        assert_problem(
            "unknown route",
            StatusCode::NOT_FOUND,
            &split(
                send(Method::GET, "/no-such-thing", Some(&customer))
                    .await
                    .unwrap(),
            )
            .await,
        );
    }
);
