# checkov scans the stack with every optional part switched on (see .checkov.yaml), so that the
# resources behind enable_locust, enable_autoscaling, store = "postgres", enable_cache,
# enable_alb_access_logs, the opened Locust UI (TLS, Cognito login), Fargate Spot workers and
# the budget with its e-mail are checked too.
allowed_ingress_cidrs  = ["203.0.113.7/32"]
image_tag              = "checkov"
enable_locust          = true
enable_autoscaling     = true
store                  = "postgres"
enable_cache           = true
enable_alb_access_logs = true
locust_ui_public       = true
certificate_arn        = "arn:aws:acm:us-east-1:123456789012:certificate/checkov"
locust_spot_workers    = true
budget_monthly_usd     = 50
alert_email            = "ops@example.com"
