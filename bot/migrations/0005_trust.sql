-- Reserved for contacts, verification and moderation (issue 5).
SELECT 1;
