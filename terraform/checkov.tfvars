# checkov scans the stack with every optional part switched on (see .checkov.yaml), so that the
# resources behind enable_locust, enable_autoscaling, store = "postgres", enable_cache and
# enable_alb_access_logs are checked too.
allowed_ingress_cidrs  = ["203.0.113.7/32"]
image_tag              = "checkov"
enable_locust          = true
enable_autoscaling     = true
store                  = "postgres"
enable_cache           = true
enable_alb_access_logs = true
