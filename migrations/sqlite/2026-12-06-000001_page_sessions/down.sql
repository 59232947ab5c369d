DROP TABLE page_sessions;
