# ------------------------------------------------------------------------------------------------
# Public Application Load Balancer: the service on port 80 (or 443 with a certificate), and the
# Locust master's web UI on port 8089 when Locust runs on ECS.
# ------------------------------------------------------------------------------------------------

resource "aws_lb" "this" {
  #checkov:skip=CKV_AWS_150:A benchmark stack is meant to be destroyed with `make destroy`; deletion protection would block that.
  #checkov:skip=CKV2_AWS_28:A WAF in front would be part of the system under test and bill per request; ingress is limited to allowed_ingress_cidrs instead.

  name                       = var.name
  load_balancer_type         = "application"
  internal                   = false
  subnets                    = aws_subnet.public[*].id
  security_groups            = [aws_security_group.alb.id]
  drop_invalid_header_fields = true
  idle_timeout               = var.alb_idle_timeout

  dynamic "access_logs" {
    for_each = aws_s3_bucket.access_logs
    content {
      bucket  = access_logs.value.id
      prefix  = "public"
      enabled = true
    }
  }

  depends_on = [aws_s3_bucket_policy.access_logs]
}

resource "aws_lb_target_group" "service" {
  #checkov:skip=CKV_AWS_378:The load balancer terminates TLS; the hop to the tasks stays inside the VPC, and TLS in uvicorn would change what the benchmark measures.

  name                 = "${var.name}-service"
  target_type          = "ip"
  vpc_id               = aws_vpc.this.id
  port                 = var.container_port
  protocol             = "HTTP"
  deregistration_delay = 15

  health_check {
    path                = var.service_readiness_path
    matcher             = "200"
    interval            = 10
    timeout             = 5
    healthy_threshold   = 2
    unhealthy_threshold = 3
  }
}

resource "aws_lb_listener" "http" {
  # Plain HTTP while no certificate_arn is given (checkov cannot tell); with one, a redirect to HTTPS.
  load_balancer_arn = aws_lb.this.arn
  port              = 80
  protocol          = "HTTP"

  default_action {
    type             = local.https ? "redirect" : "forward"
    target_group_arn = local.https ? null : aws_lb_target_group.service.arn

    dynamic "redirect" {
      for_each = local.https ? [1] : []
      content {
        port        = "443"
        protocol    = "HTTPS"
        status_code = "HTTP_301"
      }
    }
  }
}

resource "aws_lb_listener" "https" {
  count = local.https ? 1 : 0

  load_balancer_arn = aws_lb.this.arn
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = "ELBSecurityPolicy-TLS13-1-2-2021-06"
  certificate_arn   = var.certificate_arn

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.service.arn
  }
}

resource "aws_lb_target_group" "locust_master" {
  count = var.enable_locust && var.locust_ui_public ? 1 : 0

  name                 = "${var.name}-locust"
  target_type          = "ip"
  vpc_id               = aws_vpc.this.id
  port                 = local.locust_ui_port
  protocol             = "HTTP"
  deregistration_delay = 5

  health_check {
    path     = "/"
    matcher  = "200"
    interval = 15
  }
}

# The Locust web UI is private by default (SSM port forwarding: make locust-ui). Opened
# (locust_ui_public), it is served over TLS only (certificate_arn is required) behind a Cognito
# login: create its users in the user pool (terraform/README.md).
resource "aws_lb_listener" "locust_ui" {
  count = var.enable_locust && var.locust_ui_public ? 1 : 0

  load_balancer_arn = aws_lb.this.arn
  port              = local.locust_ui_port
  protocol          = "HTTPS"
  ssl_policy        = "ELBSecurityPolicy-TLS13-1-2-2021-06"
  certificate_arn   = var.certificate_arn

  default_action {
    type  = "authenticate-cognito"
    order = 1

    authenticate_cognito {
      user_pool_arn       = aws_cognito_user_pool.locust_ui[0].arn
      user_pool_client_id = aws_cognito_user_pool_client.locust_ui[0].id
      user_pool_domain    = aws_cognito_user_pool_domain.locust_ui[0].domain
    }
  }

  default_action {
    type             = "forward"
    order            = 2
    target_group_arn = aws_lb_target_group.locust_master[0].arn
  }
}

resource "aws_cognito_user_pool" "locust_ui" {
  count = var.enable_locust && var.locust_ui_public ? 1 : 0

  name                     = "${var.name}-locust-ui"
  deletion_protection      = "INACTIVE"
  auto_verified_attributes = ["email"]

  admin_create_user_config {
    allow_admin_create_user_only = true # no self sign-up: you add the users
  }

  password_policy {
    minimum_length    = 14
    require_lowercase = true
    require_uppercase = true
    require_numbers   = true
    require_symbols   = false
  }
}

resource "aws_cognito_user_pool_domain" "locust_ui" {
  count = var.enable_locust && var.locust_ui_public ? 1 : 0

  domain       = "${var.name}-locust-${substr(sha1(aws_lb.this.arn), 0, 8)}"
  user_pool_id = aws_cognito_user_pool.locust_ui[0].id
}

resource "aws_cognito_user_pool_client" "locust_ui" {
  count = var.enable_locust && var.locust_ui_public ? 1 : 0

  name                                 = "${var.name}-locust-ui"
  user_pool_id                         = aws_cognito_user_pool.locust_ui[0].id
  generate_secret                      = true
  allowed_oauth_flows_user_pool_client = true
  allowed_oauth_flows                  = ["code"]
  allowed_oauth_scopes                 = ["openid", "email"]
  supported_identity_providers         = ["COGNITO"]
  callback_urls                        = ["https://${aws_lb.this.dns_name}:${local.locust_ui_port}/oauth2/idpresponse"]
}

# The service's admin route (POST /admin/reset) is for the load generators only: the public load
# balancer refuses it; the internal one, reachable only from the Locust and sweep tasks, forwards
# it (and the service still asks for its token).
resource "aws_lb_listener_rule" "no_public_admin" {
  for_each = merge({ http = aws_lb_listener.http.arn }, local.https ? { https = aws_lb_listener.https[0].arn } : {})

  listener_arn = each.value
  priority     = 10

  condition {
    path_pattern {
      values = ["/admin/*", "/admin"]
    }
  }

  action {
    type = "fixed-response"
    fixed_response {
      content_type = "application/json"
      status_code  = "403"
      message_body = jsonencode({ error = "forbidden", message = "the admin route is reachable only from inside the VPC" })
    }
  }
}

# ------------------------------------------------------------------------------------------------
# Internal Application Load Balancer for the Locust workers. A public load balancer's address is
# public even from inside the VPC, and its security group cannot recognise the workers there, so the
# workers send their load to the same service tasks through this one.
# ------------------------------------------------------------------------------------------------

resource "aws_lb" "internal" {
  #checkov:skip=CKV_AWS_150:A benchmark stack is meant to be destroyed with `make destroy`.
  #checkov:skip=CKV2_AWS_20:Internal, reachable only from the Locust tasks; TLS here would load the generator, not protect data.
  count = var.enable_locust ? 1 : 0

  name                       = "${var.name}-internal"
  load_balancer_type         = "application"
  internal                   = true
  subnets                    = aws_subnet.public[*].id
  security_groups            = [aws_security_group.internal_alb[0].id]
  drop_invalid_header_fields = true
  idle_timeout               = var.alb_idle_timeout

  dynamic "access_logs" {
    for_each = aws_s3_bucket.access_logs
    content {
      bucket  = access_logs.value.id
      prefix  = "internal"
      enabled = true
    }
  }

  depends_on = [aws_s3_bucket_policy.access_logs]
}

resource "aws_lb_target_group" "internal_service" {
  #checkov:skip=CKV_AWS_378:The hop to the tasks stays inside the VPC; TLS in uvicorn would change what the benchmark measures.
  count = var.enable_locust ? 1 : 0

  name                 = "${var.name}-isvc"
  target_type          = "ip"
  vpc_id               = aws_vpc.this.id
  port                 = var.container_port
  protocol             = "HTTP"
  deregistration_delay = 15

  health_check {
    path                = var.service_readiness_path
    matcher             = "200"
    interval            = 10
    timeout             = 5
    healthy_threshold   = 2
    unhealthy_threshold = 3
  }
}

resource "aws_lb_listener" "internal_http" {
  #checkov:skip=CKV_AWS_2:Internal listener reachable only from the Locust tasks' security group; TLS here would load the generator, not protect data.
  #checkov:skip=CKV_AWS_103:No TLS on the internal listener (see CKV_AWS_2).
  count = var.enable_locust ? 1 : 0

  load_balancer_arn = aws_lb.internal[0].arn
  port              = 80
  protocol          = "HTTP"

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.internal_service[0].arn
  }
}
