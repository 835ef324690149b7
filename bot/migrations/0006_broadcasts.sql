-- Reserved for broadcasts and figures (issue 6).
SELECT 1;
