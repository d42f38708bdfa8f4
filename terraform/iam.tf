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
