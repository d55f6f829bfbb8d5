-- Appointments 预约 at the service centre (capabilities::appointments, seed 001's "1+1+N").
-- A type's hours are kept by services::hours under owner kind `appointment_type`.

CREATE TABLE appointment_types (
    community_id BIGINT NOT NULL REFERENCES communities (id),
    id BIGINT NOT NULL,
    name TEXT NOT NULL,
    desk TEXT NOT NULL,
    kind TEXT NOT NULL,
    duration_minutes BIGINT NOT NULL,
    interval_minutes BIGINT NOT NULL,
    seats BIGINT NOT NULL,
    min_notice_hours BIGINT NOT NULL,
    max_ahead_days BIGINT NOT NULL,
    proxy_allowed BOOLEAN NOT NULL DEFAULT FALSE,
    documents TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    archived_at BIGINT,
    PRIMARY KEY (community_id, id)
);

-- The seats taken of each slot: what bookings race for (`taken < seats`, guarded).
CREATE TABLE appointment_slots (
    community_id BIGINT NOT NULL REFERENCES communities (id),
    type_id BIGINT NOT NULL,
    starts_at BIGINT NOT NULL,
    taken BIGINT NOT NULL,
    PRIMARY KEY (community_id, type_id, starts_at),
    FOREIGN KEY (community_id, type_id) REFERENCES appointment_types (community_id, id)
);

-- An appointment: for whom (an account, or a caller's name and sealed number), who booked
-- it and whether on someone's behalf; its state with who set it and when, a cancellation's
-- reason, the booking it was moved to; a proxy errand's result and the ticket it became;
-- reminders sent (or not deliverable, for staff to call).
CREATE TABLE appointments (
    community_id BIGINT NOT NULL REFERENCES communities (id),
    id BIGINT NOT NULL,
    type_id BIGINT NOT NULL,
    starts_at BIGINT NOT NULL,
    ends_at BIGINT NOT NULL,
    user_id BIGINT REFERENCES users (id),
    name TEXT NOT NULL,
    phone_enc BYTEA,
    phone_masked TEXT,
    booked_by BIGINT NOT NULL REFERENCES users (id),
    proxy BOOLEAN NOT NULL,
    status TEXT NOT NULL,
    status_at BIGINT NOT NULL,
    status_by BIGINT REFERENCES users (id),
    reason TEXT,
    rescheduled_to BIGINT,
    result TEXT,
    documents TEXT,
    ticket_id BIGINT,
    reminded_day_at BIGINT,
    reminded_hours_at BIGINT,
    remind_failed_at BIGINT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (community_id, id),
    FOREIGN KEY (community_id, type_id) REFERENCES appointment_types (community_id, id)
);
CREATE INDEX ix_appointments__slot ON appointments (community_id, type_id, starts_at);
CREATE INDEX ix_appointments__user ON appointments (community_id, user_id, starts_at);
CREATE INDEX ix_appointments__due ON appointments (starts_at, status);
