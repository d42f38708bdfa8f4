# checkov scans the stack with every optional part switched on (see .checkov.yaml), so that the
# resources behind enable_locust, enable_autoscaling, store = "postgres", enable_cache,
# enable_alb_access_logs, the opened Locust UI (TLS, Cognito login), Fargate Spot workers and
# the budget with its e-mail are checked too. (checkov does not run variable validations, so
# locust_ui_public goes without the certificate_arn a plan would ask for: with one, checkov reads
# port 80's conditional redirect as plain HTTP.)
allowed_ingress_cidrs  = ["203.0.113.7/32"]
image_tag              = "checkov"
enable_locust          = true
enable_autoscaling     = true
store                  = "postgres"
enable_cache           = true
enable_alb_access_logs = true
locust_ui_public       = true
locust_spot_workers    = true
budget_monthly_usd     = 50
alert_email            = "ops@example.com"
