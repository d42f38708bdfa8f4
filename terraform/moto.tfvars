# Used only by tests/deploy/test_terraform.py, which applies the whole stack to a moto server on
# loopback and passes aws_endpoint_url=http://127.0.0.1:<port> on the command line.
# Everything moto lacks is switched off here, one variable each (terraform/README.md lists them).

allowed_ingress_cidrs = ["127.0.0.1/32"]
image_tag             = "moto-test"

# moto 5.2 lacks Application Auto Scaling's ListTagsForResource: the provider retries it for
# minutes and the apply times out.
enable_autoscaling = false

# The Locust master, workers and Cloud Map namespace are applied too.
enable_locust  = true
locust_workers = 2
