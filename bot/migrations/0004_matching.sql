-- Reserved for matching, saved searches and the scheduler (issue 4).
SELECT 1;
