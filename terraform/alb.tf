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
    path                = "/health"
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
  count = var.enable_locust ? 1 : 0

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

resource "aws_lb_listener" "locust_ui" {
  # HTTPS whenever certificate_arn is given; otherwise plain HTTP, from allowed_ingress_cidrs only.
  count = var.enable_locust ? 1 : 0

  load_balancer_arn = aws_lb.this.arn
  port              = local.locust_ui_port
  protocol          = local.https ? "HTTPS" : "HTTP"
  ssl_policy        = local.https ? "ELBSecurityPolicy-TLS13-1-2-2021-06" : null
  certificate_arn   = var.certificate_arn

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.locust_master[0].arn
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
    path                = "/health"
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
