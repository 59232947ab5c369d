//! The one schema both backends share; kept in step with `migrations/{sqlite,postgres}`.
// (A test applies every migration on both backends and compares the columns with this file.)

diesel::table! {
    customers (id) {
        id -> BigInt,
        name -> Text,
        phone -> Nullable<Text>,
        email -> Nullable<Text>,
        address -> Nullable<Text>,
        lat -> Nullable<Double>,
        lon -> Nullable<Double>,
        created_at -> Timestamp,
        locale -> Nullable<Text>,
    }
}

diesel::table! {
    users (id) {
        id -> BigInt,
        email -> Text,
        name -> Text,
        role -> Text,
        password_hash -> Text,
        customer_id -> Nullable<BigInt>,
        active -> Bool,
        absent -> Bool,
        substitute_id -> Nullable<BigInt>,
        created_at -> Timestamp,
        locale -> Nullable<Text>,
        token_generation -> Integer,
        auth_changed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    refresh_tokens (id) {
        id -> BigInt,
        user_id -> BigInt,
        family -> Text,
        token_hash -> Text,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    page_sessions (id) {
        id -> BigInt,
        user_id -> BigInt,
        token_hash -> Text,
        token_generation -> Integer,
        expires_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    products (id) {
        id -> BigInt,
        sku -> Text,
        name -> Text,
        category -> Text,
        series -> Nullable<Text>,
        warranty_months -> Integer,
        size_units -> Integer,
        created_at -> Timestamp,
    }
}

diesel::table! {
    sales (id) {
        id -> BigInt,
        serial_no -> Text,
        sku -> Text,
        customer_id -> Nullable<BigInt>,
        sold_at -> Date,
        warranty_until -> Nullable<Date>,
        created_at -> Timestamp,
        batch_id -> Nullable<Text>,
    }
}

diesel::table! {
    claims (id) {
        id -> BigInt,
        number -> Text,
        customer_id -> BigInt,
        filed_by -> BigInt,
        serial_no -> Text,
        sku -> Nullable<Text>,
        defect_category -> Text,
        description -> Text,
        requested_remedy -> Text,
        status -> Text,
        assignee_id -> Nullable<BigInt>,
        warranty_status -> Text,
        warranty_until -> Nullable<Date>,
        decision -> Nullable<Text>,
        decision_reason -> Nullable<Text>,
        refund_amount_cents -> Nullable<BigInt>,
        stage_entered_at -> Timestamp,
        stage_due_at -> Nullable<Timestamp>,
        address -> Text,
        lat -> Double,
        lon -> Double,
        preferred_windows -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> Integer,
        tracking_token -> Nullable<Text>,
        escalated_at -> Nullable<Timestamp>,
        escalated_stage -> Nullable<Text>,
        reason_code -> Nullable<Text>,
        logistics -> Nullable<Text>,
        override_reason -> Nullable<Text>,
        rating -> Nullable<Integer>,
        rating_comment -> Nullable<Text>,
        rated_at -> Nullable<Timestamp>,
        partner_id -> Nullable<BigInt>,
    }
}

diesel::table! {
    claim_events (id) {
        id -> BigInt,
        claim_id -> BigInt,
        at -> Timestamp,
        actor_id -> Nullable<BigInt>,
        kind -> Text,
        from_status -> Nullable<Text>,
        to_status -> Nullable<Text>,
        note -> Nullable<Text>,
    }
}

diesel::table! {
    depots (id) {
        id -> BigInt,
        name -> Text,
        address -> Text,
        lat -> Double,
        lon -> Double,
        opens_minute -> Integer,
        closes_minute -> Integer,
        time_zone -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    partners (id) {
        id -> BigInt,
        kind -> Text,
        name -> Text,
        address -> Text,
        lat -> Double,
        lon -> Double,
        opens_minute -> Integer,
        closes_minute -> Integer,
        time_zone -> Text,
        phone -> Nullable<Text>,
        email -> Nullable<Text>,
        categories -> Text,
        active -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    couriers (id) {
        id -> BigInt,
        user_id -> BigInt,
        name -> Text,
        phone -> Nullable<Text>,
        capacity -> Integer,
        skills -> Text,
        home_depot_id -> BigInt,
        created_at -> Timestamp,
        last_lat -> Nullable<Double>,
        last_lon -> Nullable<Double>,
        last_seen_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    shifts (id) {
        id -> BigInt,
        courier_id -> BigInt,
        date -> Date,
        start_at -> Timestamp,
        end_at -> Timestamp,
        start_depot_id -> BigInt,
        end_depot_id -> BigInt,
        break_minutes -> Nullable<Integer>,
        break_start_at -> Nullable<Timestamp>,
        break_end_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    jobs (id) {
        id -> BigInt,
        claim_id -> BigInt,
        kind -> Text,
        status -> Text,
        address -> Text,
        lat -> Double,
        lon -> Double,
        windows -> Text,
        service_minutes -> Integer,
        delivery_load -> Integer,
        pickup_load -> Integer,
        skills -> Text,
        priority -> Integer,
        cash_cents -> Nullable<BigInt>,
        date -> Nullable<Date>,
        courier_id -> Nullable<BigInt>,
        attempts -> Integer,
        fail_reason -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        plan_id -> Nullable<BigInt>,
        done_at -> Nullable<Timestamp>,
        partner_id -> Nullable<BigInt>,
        paired_job_id -> Nullable<BigInt>,
    }
}

diesel::table! {
    attachments (id) {
        id -> BigInt,
        claim_id -> Nullable<BigInt>,
        job_id -> Nullable<BigInt>,
        kind -> Text,
        file_name -> Text,
        content_type -> Text,
        bytes -> BigInt,
        sha256 -> Text,
        uploaded_by -> BigInt,
        created_at -> Timestamp,
        width -> Nullable<Integer>,
        height -> Nullable<Integer>,
        thumbnail -> Bool,
    }
}

diesel::table! {
    outbox (id) {
        id -> BigInt,
        event -> Text,
        payload -> Text,
        created_at -> Timestamp,
        delivered_at -> Nullable<Timestamp>,
        attempts -> Integer,
        claim_id -> Nullable<BigInt>,
    }
}

diesel::table! {
    webhooks (id) {
        id -> BigInt,
        url -> Text,
        events -> Text,
        secret -> Text,
        active -> Bool,
        created_by -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    deliveries (id) {
        id -> BigInt,
        outbox_id -> BigInt,
        event -> Text,
        claim_id -> Nullable<BigInt>,
        channel -> Text,
        recipient -> Text,
        user_id -> Nullable<BigInt>,
        webhook_id -> Nullable<BigInt>,
        template -> Nullable<Text>,
        locale -> Nullable<Text>,
        subject -> Nullable<Text>,
        body -> Text,
        state -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        locked_until -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        sent_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    idempotency_keys (id) {
        id -> BigInt,
        user_id -> BigInt,
        key -> Text,
        request_hash -> Text,
        status_code -> Integer,
        response_body -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    plans (id) {
        id -> BigInt,
        date -> Date,
        depot_id -> Nullable<BigInt>,
        scope -> Text,
        status -> Text,
        created_by -> BigInt,
        based_on_id -> Nullable<BigInt>,
        reoptimizes_id -> Nullable<BigInt>,
        time_limit_ms -> Integer,
        runner -> Nullable<Text>,
        heartbeat_at -> Nullable<Timestamp>,
        started_at -> Nullable<Timestamp>,
        finished_at -> Nullable<Timestamp>,
        published_at -> Nullable<Timestamp>,
        progress -> Text,
        stats -> Nullable<Text>,
        problem -> Nullable<Text>,
        origin -> Nullable<Timestamp>,
        error -> Nullable<Text>,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        runs -> Integer,
        objective -> Text,
    }
}

diesel::table! {
    plan_routes (id) {
        id -> BigInt,
        plan_id -> BigInt,
        courier_id -> BigInt,
        vehicle -> Integer,
        start_at -> Timestamp,
        end_at -> Timestamp,
        distance_m -> Double,
        violations -> Text,
        revision -> BigInt,
        etas_at -> Nullable<Timestamp>,
        eta_end_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    plan_stops (id) {
        id -> BigInt,
        plan_id -> BigInt,
        route_id -> Nullable<BigInt>,
        seq -> Integer,
        job_id -> Nullable<BigInt>,
        arrival_at -> Nullable<Timestamp>,
        start_at -> Nullable<Timestamp>,
        departure_at -> Nullable<Timestamp>,
        load -> Integer,
        locked -> Bool,
        reason -> Nullable<Text>,
        violations -> Text,
        outcome -> Nullable<Text>,
        eta_at -> Nullable<Timestamp>,
        delayed -> Bool,
        delay_noticed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    job_events (id) {
        id -> BigInt,
        job_id -> BigInt,
        courier_id -> BigInt,
        kind -> Text,
        at -> Timestamp,
        received_at -> Timestamp,
        lat -> Nullable<Double>,
        lon -> Nullable<Double>,
        reason -> Nullable<Text>,
        note -> Nullable<Text>,
        applied -> Bool,
    }
}

diesel::table! {
    courier_positions (id) {
        id -> BigInt,
        courier_id -> BigInt,
        at -> Timestamp,
        lat -> Double,
        lon -> Double,
        accuracy_m -> Nullable<Double>,
        received_at -> Timestamp,
    }
}

diesel::joinable!(page_sessions -> users (user_id));
diesel::joinable!(claims -> customers (customer_id));
diesel::joinable!(claim_events -> claims (claim_id));
diesel::joinable!(jobs -> claims (claim_id));
diesel::joinable!(sales -> customers (customer_id));
diesel::joinable!(shifts -> couriers (courier_id));
diesel::joinable!(plan_routes -> plans (plan_id));
diesel::joinable!(plan_routes -> couriers (courier_id));
diesel::joinable!(plan_stops -> jobs (job_id));
diesel::joinable!(plan_stops -> plan_routes (route_id));
diesel::joinable!(plan_stops -> plans (plan_id));
diesel::joinable!(job_events -> jobs (job_id));
diesel::joinable!(courier_positions -> couriers (courier_id));
diesel::joinable!(deliveries -> outbox (outbox_id));
diesel::joinable!(deliveries -> webhooks (webhook_id));

diesel::table! {
    sweeps (name) {
        name -> Text,
        leased_until -> Timestamp,
        holder -> Text,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    customers,
    users,
    refresh_tokens,
    page_sessions,
    products,
    sales,
    claims,
    claim_events,
    depots,
    partners,
    couriers,
    shifts,
    jobs,
    attachments,
    outbox,
    idempotency_keys,
    plans,
    plan_routes,
    plan_stops,
    job_events,
    courier_positions,
    webhooks,
    deliveries,
    sweeps,
);

// The defects report groups claims by their product's and their sale's columns.
diesel::allow_columns_to_appear_in_same_group_by_clause!(
    claims::defect_category,
    claims::sku,
    products::category,
    products::series,
    products::name,
    sales::batch_id,
    sales::sku,
);
