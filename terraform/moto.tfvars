# Used only by tests/deploy/test_terraform.py, which applies the whole stack to a moto server on
# loopback and passes aws_endpoint_url=http://127.0.0.1:<port> (and store) on the command line.
# Everything moto lacks is switched off here, one variable each (terraform/README.md lists them).

allowed_ingress_cidrs = ["127.0.0.1/32"]
image_tag             = "moto-test"

# moto 5.2 lacks Application Auto Scaling's ListTagsForResource: the provider retries it for
# minutes and the apply times out.
enable_autoscaling = false

# moto 5.2's CreateReplicationGroup creates no member cache clusters (the provider's read of
# loadbench-cache-001 answers 404) and it lacks DeleteCacheSubnetGroup.
enable_cache = false

# The test's moto server reports MOTO_ECS_SERVICE_RUNNING=1 running task per ECS service, so that
# wait_for_steady_state (left on) sees every service stable: one task each.
service_desired_count = 1
locust_workers        = 1

# Everything else is applied: Locust, the VPC endpoints, the results and access-log buckets, the
# dashboard and alarms, and with store = "postgres" the RDS instance and its generated secret.
enable_locust          = true
enable_alb_access_logs = true
