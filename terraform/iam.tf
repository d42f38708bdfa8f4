# ------------------------------------------------------------------------------------------------
# Logs, and the execution role ECS uses to start the tasks: pull from this stack's repositories,
# write to this stack's log group and (store = "postgres") read the database's secret, nothing else.
# The service and Locust containers call no AWS API, so they get no task role; the sweep task's role
# (sweep.tf) may only put objects under its prefix of the results bucket.
# ------------------------------------------------------------------------------------------------

resource "aws_cloudwatch_log_group" "this" {
  #checkov:skip=CKV_AWS_158:Benchmark logs hold no user data; a customer-managed KMS key would bill monthly for nothing.
  #checkov:skip=CKV_AWS_338:Short retention on purpose: these are throwaway benchmark logs (see log_retention_days).

  name              = "/ecs/${var.name}"
  retention_in_days = var.log_retention_days
}

# Log groups AWS would otherwise create on first use, without retention, and leave behind after
# destroy: Container Insights' performance events, the RDS PostgreSQL log export, and the
# service metrics the collector sidecar writes. Created here first, with a retention.
resource "aws_cloudwatch_log_group" "container_insights" {
  #checkov:skip=CKV_AWS_158:Benchmark metrics events hold no user data; a customer-managed KMS key would bill monthly for nothing.
  #checkov:skip=CKV_AWS_338:Short retention on purpose: throwaway benchmark telemetry (see log_retention_days).
  name              = "/aws/ecs/containerinsights/${var.name}/performance"
  retention_in_days = var.log_retention_days
}

resource "aws_cloudwatch_log_group" "database" {
  #checkov:skip=CKV_AWS_158:Benchmark database logs hold no user data; a customer-managed KMS key would bill monthly for nothing.
  #checkov:skip=CKV_AWS_338:Short retention on purpose: throwaway benchmark logs (see log_retention_days).
  count = local.postgres ? 1 : 0

  name              = "/aws/rds/instance/${var.name}-postgres/postgresql"
  retention_in_days = var.log_retention_days
}

resource "aws_cloudwatch_log_group" "service_metrics" {
  #checkov:skip=CKV_AWS_158:Metrics of synthetic requests; a customer-managed KMS key would bill monthly for nothing.
  #checkov:skip=CKV_AWS_338:Short retention on purpose: the metrics themselves live in CloudWatch Metrics (15 months).
  count = var.enable_service_metrics ? 1 : 0

  name              = "/ecs/${var.name}/service-metrics"
  retention_in_days = var.log_retention_days
}

# The service's admin token (service_admin_enabled): the remote sweep resets and seeds the store
# through the service's admin route with it. Generated once (uuid, 122 random bits; kept in the
# state, like the state keeps every resource ID) and handed to the service and the sweep task
# by ECS from Secrets Manager. The route is reachable only through the internal load balancer.
resource "terraform_data" "admin_token" {
  count = var.service_admin_enabled ? 1 : 0

  input = uuid()

  lifecycle {
    ignore_changes = [input]
  }
}

resource "aws_secretsmanager_secret" "admin_token" {
  #checkov:skip=CKV_AWS_149:Encrypted with the AWS-managed key; a customer-managed KMS key would bill monthly for a token that guards synthetic data.
  #checkov:skip=CKV2_AWS_57:Rotation needs a Lambda; the token lives as long as the stack (redeploy to change it).
  count = var.service_admin_enabled ? 1 : 0

  name_prefix             = "${var.name}-admin-token-"
  description             = "Admin token of the ${var.name} service (reset and seed the store)"
  recovery_window_in_days = 0 # make destroy deletes it at once
}

resource "aws_secretsmanager_secret_version" "admin_token" {
  count = var.service_admin_enabled ? 1 : 0

  secret_id     = aws_secretsmanager_secret.admin_token[0].id
  secret_string = terraform_data.admin_token[0].output
}

locals {
  admin_token_env  = "ADMIN_TOKEN" # target_service/settings.py
  admin_secret_arn = var.service_admin_enabled ? aws_secretsmanager_secret_version.admin_token[0].arn : null

  service_metrics_namespace = "${var.name}/service"
}

data "aws_caller_identity" "current" {}

# Only ECS tasks of this account may assume the roles (no confused deputy).
data "aws_iam_policy_document" "ecs_tasks_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

data "aws_iam_policy_document" "execution" {
  statement {
    sid       = "EcrLogin"
    actions   = ["ecr:GetAuthorizationToken"] # cannot be scoped to a repository
    resources = ["*"]
  }

  statement {
    sid = "PullStackImages"
    actions = [
      "ecr:BatchCheckLayerAvailability",
      "ecr:BatchGetImage",
      "ecr:GetDownloadUrlForLayer",
    ]
    resources = [for repository in aws_ecr_repository.this : repository.arn]
  }

  statement {
    sid       = "WriteStackLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.this.arn}:*"]
  }

  dynamic "statement" {
    for_each = local.postgres ? [local.database_secret_arn] : []
    content {
      sid       = "ReadDatabaseSecret"
      actions   = ["secretsmanager:GetSecretValue"]
      resources = [statement.value]
    }
  }

  dynamic "statement" {
    for_each = var.service_admin_enabled ? [aws_secretsmanager_secret.admin_token[0].arn] : []
    content {
      sid       = "ReadAdminToken"
      actions   = ["secretsmanager:GetSecretValue"]
      resources = [statement.value]
    }
  }
}

resource "aws_iam_role" "execution" {
  name               = "${var.name}-task-execution"
  description        = "Lets ECS pull the ${var.name} images and write their logs"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
}

resource "aws_iam_role_policy" "execution" {
  name   = local.postgres ? "pull-images-write-logs-read-db-secret" : "pull-images-write-logs"
  role   = aws_iam_role.execution.id
  policy = data.aws_iam_policy_document.execution.json
}
