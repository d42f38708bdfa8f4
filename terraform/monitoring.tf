# ------------------------------------------------------------------------------------------------
# CloudWatch dashboard `<name>` (requests, response-time percentiles, 4xx/5xx, healthy hosts, task
# CPU/memory, running tasks; the database and cache when deployed) and two alarms: the share of
# 5xx answers, and unhealthy service targets.
# ------------------------------------------------------------------------------------------------

locals {
  # Load balancer/target group pairs of the service: the public one, and the internal one the ECS
  # Locust workers load.
  service_target_groups = merge(
    { public = { lb = aws_lb.this.arn_suffix, tg = aws_lb_target_group.service.arn_suffix } },
    var.enable_locust ? { internal = { lb = aws_lb.internal[0].arn_suffix, tg = aws_lb_target_group.internal_service[0].arn_suffix } } : {},
  )

  database_identifier = one(aws_db_instance.this[*].identifier)
  cache_node_id       = var.enable_cache ? "${var.name}-cache-001" : null
  # The routes the scenarios load (target_service/metrics.py's route templates), with methods.
  dashboard_routes = [["/products/{productId}", "GET"], ["/products", "GET"], ["/products", "POST"], ["/products/{productId}", "PUT"], ["/products/{productId}", "DELETE"]]

  ecs_service_dimensions = ["ClusterName", aws_ecs_cluster.this.name, "ServiceName", "${var.name}-service"]

  dashboard_widgets = concat(
    [
      {
        type = "metric", width = 12, height = 6,
        properties = {
          title   = "Requests per minute", region = var.aws_region, stat = "Sum", period = 60, view = "timeSeries",
          metrics = [for key, pair in local.service_target_groups : ["AWS/ApplicationELB", "RequestCount", "LoadBalancer", pair.lb, { label = key }]]
        }
      },
      {
        type = "metric", width = 12, height = 6,
        properties = {
          title = "Target response time (s)", region = var.aws_region, period = 60, view = "timeSeries",
          # setproduct, not flatten: flatten would also flatten each metric's own array.
          metrics = [for item in setproduct(keys(local.service_target_groups), ["p50", "p90", "p99"]) :
            ["AWS/ApplicationELB", "TargetResponseTime", "LoadBalancer", local.service_target_groups[item[0]].lb, { stat = item[1], label = "${item[0]} ${item[1]}" }]
          ]
        }
      },
      {
        type = "metric", width = 12, height = 6,
        properties = {
          title = "4xx and 5xx per minute", region = var.aws_region, stat = "Sum", period = 60, view = "timeSeries",
          metrics = [for item in setproduct(keys(local.service_target_groups), ["HTTPCode_Target_4XX_Count", "HTTPCode_Target_5XX_Count", "HTTPCode_ELB_5XX_Count"]) :
            ["AWS/ApplicationELB", item[1], "LoadBalancer", local.service_target_groups[item[0]].lb, { label = "${item[0]} ${item[1]}" }]
          ]
        }
      },
      {
        type = "metric", width = 12, height = 6,
        properties = {
          title = "Healthy and unhealthy service targets", region = var.aws_region, stat = "Minimum", period = 60, view = "timeSeries",
          metrics = [for item in setproduct(keys(local.service_target_groups), ["HealthyHostCount", "UnHealthyHostCount"]) :
            ["AWS/ApplicationELB", item[1], "TargetGroup", local.service_target_groups[item[0]].tg, "LoadBalancer", local.service_target_groups[item[0]].lb, { label = "${item[0]} ${item[1]}" }]
          ]
        }
      },
      {
        type = "metric", width = 12, height = 6,
        properties = {
          title = "Service task CPU and memory (% of the task)", region = var.aws_region, period = 60, view = "timeSeries",
          metrics = [
            concat(["AWS/ECS", "CPUUtilization"], local.ecs_service_dimensions, [{ stat = "Average", label = "CPU average" }]),
            concat(["AWS/ECS", "CPUUtilization"], local.ecs_service_dimensions, [{ stat = "Maximum", label = "CPU max" }]),
            concat(["AWS/ECS", "MemoryUtilization"], local.ecs_service_dimensions, [{ stat = "Average", label = "memory average" }]),
          ]
        }
      },
      {
        type = "metric", width = 12, height = 6,
        properties = {
          title   = "Running service tasks (Container Insights)", region = var.aws_region, stat = "Average", period = 60, view = "timeSeries",
          metrics = [concat(["ECS/ContainerInsights", "RunningTaskCount"], local.ecs_service_dimensions)]
        }
      },
    ],
    [for widget in [
      {
        type = "metric", width = 12, height = 6,
        properties = {
          title = "PostgreSQL: CPU (%) and connections", region = var.aws_region, stat = "Average", period = 60, view = "timeSeries",
          metrics = [
            for metric in ["CPUUtilization", "DatabaseConnections"] :
            ["AWS/RDS", metric, "DBInstanceIdentifier", local.database_identifier]
          ]
        }
      },
      {
        type = "metric", width = 12, height = 6,
        properties = {
          title = "PostgreSQL: read and write latency (s), IOPS", region = var.aws_region, stat = "Average", period = 60, view = "timeSeries",
          metrics = [
            for metric in ["ReadLatency", "WriteLatency", "ReadIOPS", "WriteIOPS"] :
            ["AWS/RDS", metric, "DBInstanceIdentifier", local.database_identifier]
          ]
        }
      },
    ] : widget if local.postgres],
    [for widget in [
      {
        # db.t4g/t3 classes run on CPU credits: a balance near 0 throttles the database (or bills
        # surplus credits in unlimited mode) and changes what a sweep measures.
        type = "metric", width = 12, height = 6,
        properties = {
          title = "PostgreSQL: CPU credits (burstable classes)", region = var.aws_region, stat = "Average", period = 300, view = "timeSeries",
          metrics = [
            for metric in ["CPUCreditBalance", "CPUCreditUsage", "CPUSurplusCreditBalance"] :
            ["AWS/RDS", metric, "DBInstanceIdentifier", local.database_identifier]
          ]
        }
      },
      {
        type = "metric", width = 12, height = 6,
        properties = {
          title   = "PostgreSQL: free storage (bytes)", region = var.aws_region, stat = "Minimum", period = 300, view = "timeSeries",
          metrics = [["AWS/RDS", "FreeStorageSpace", "DBInstanceIdentifier", local.database_identifier]]
        }
      },
    ] : widget if local.postgres],
    [for widget in [
      {
        # ElastiCache publishes per node: the dimension is CacheClusterId (<group>-001 for the one
        # node), not ReplicationGroupId, under which these metrics do not exist.
        type = "metric", width = 12, height = 6,
        properties = {
          title = "Redis: hits and misses per minute, hit rate (%)", region = var.aws_region, period = 60, view = "timeSeries",
          metrics = [
            ["AWS/ElastiCache", "CacheHits", "CacheClusterId", local.cache_node_id, { id = "hits", stat = "Sum" }],
            ["AWS/ElastiCache", "CacheMisses", "CacheClusterId", local.cache_node_id, { id = "misses", stat = "Sum" }],
            [{ expression = "100 * hits / (hits + misses)", label = "hit rate %", id = "rate", yAxis = "right" }],
          ]
        }
      },
      {
        type = "metric", width = 12, height = 6,
        properties = {
          title   = "Redis: engine CPU (%)", region = var.aws_region, stat = "Average", period = 60, view = "timeSeries",
          metrics = [["AWS/ElastiCache", "EngineCPUUtilization", "CacheClusterId", local.cache_node_id]]
        }
      },
    ] : widget if var.enable_cache],
    [for widget in [
      {
        # From the service's own /metrics (the ADOT sidecar, embedded metric format): server-side
        # time per route, which the load balancer's TargetResponseTime cannot split by route.
        type = "metric", width = 24, height = 6,
        properties = {
          title = "Service: server-side latency per route (s), from /metrics", region = var.aws_region, period = 60, view = "timeSeries",
          metrics = [for item in setproduct(local.dashboard_routes, ["p50", "p99"]) :
            [local.service_metrics_namespace, "loadbench_server_request_duration_seconds", "route", item[0][0], "method", item[0][1], { stat = item[1], label = "${item[0][1]} ${item[0][0]} ${item[1]}" }]
          ]
        }
      },
    ] : widget if var.enable_service_metrics],
  )
}

resource "aws_cloudwatch_dashboard" "this" {
  dashboard_name = var.name
  dashboard_body = jsonencode({ widgets = local.dashboard_widgets })
}

# Share of 5xx answers (from the tasks or the load balancer itself) among all requests, per load
# balancer, over one minute. No traffic counts as no breach.
resource "aws_cloudwatch_metric_alarm" "errors_5xx" {
  for_each = local.service_target_groups

  alarm_name          = "${var.name}-${each.key}-5xx-rate"
  alarm_description   = "More than ${var.alarm_5xx_percent}% of the requests through the ${each.key} load balancer answered 5xx over a minute."
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.alarm_5xx_percent
  evaluation_periods  = 1
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  metric_query {
    id          = "rate"
    expression  = "100 * (FILL(target5xx, 0) + FILL(elb5xx, 0)) / requests"
    label       = "5xx percent"
    return_data = true
  }

  dynamic "metric_query" {
    for_each = { requests = "RequestCount", target5xx = "HTTPCode_Target_5XX_Count", elb5xx = "HTTPCode_ELB_5XX_Count" }
    content {
      id = metric_query.key
      metric {
        namespace   = "AWS/ApplicationELB"
        metric_name = metric_query.value
        dimensions  = { LoadBalancer = each.value.lb }
        period      = 60
        stat        = "Sum"
      }
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "unhealthy_hosts" {
  for_each = local.service_target_groups

  alarm_name          = "${var.name}-${each.key}-unhealthy-targets"
  alarm_description   = "A service task behind the ${each.key} load balancer failed its /health check for two minutes."
  namespace           = "AWS/ApplicationELB"
  metric_name         = "UnHealthyHostCount"
  dimensions          = { TargetGroup = each.value.tg, LoadBalancer = each.value.lb }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 2
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

# Every alarm notifies this topic (plus alarm_actions); alert_email subscribes an address to it.
resource "aws_sns_topic" "alarms" {
  #checkov:skip=CKV_AWS_26:CloudWatch alarms cannot publish to a topic encrypted with the AWS-managed SNS key, and a customer-managed key bills monthly; the messages are alarm names and states.
  name = "${var.name}-alarms"
}

resource "aws_sns_topic_subscription" "alarm_email" {
  count = var.alert_email == null ? 0 : 1

  topic_arn = aws_sns_topic.alarms.arn
  protocol  = "email"
  endpoint  = var.alert_email
}

locals {
  alarm_actions = concat([aws_sns_topic.alarms.arn], var.alarm_actions)
}

resource "aws_cloudwatch_metric_alarm" "database_free_storage" {
  count = local.postgres ? 1 : 0

  alarm_name          = "${var.name}-database-free-storage"
  alarm_description   = "The database has less than ${var.alarm_db_free_storage_gib} GiB free: storage autoscaling is at db_max_allocated_storage or cannot keep up; writes will fail when it is full."
  namespace           = "AWS/RDS"
  metric_name         = "FreeStorageSpace"
  dimensions          = { DBInstanceIdentifier = aws_db_instance.this[0].identifier }
  statistic           = "Minimum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "LessThanThreshold"
  threshold           = var.alarm_db_free_storage_gib * 1024 * 1024 * 1024
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

# Optional cost guardrail: a monthly budget on the stack's Project tag, mailing alert_email.
resource "aws_budgets_budget" "this" {
  count = var.budget_monthly_usd == null ? 0 : 1

  name         = "${var.name}-monthly"
  budget_type  = "COST"
  limit_amount = tostring(var.budget_monthly_usd)
  limit_unit   = "USD"
  time_unit    = "MONTHLY"

  cost_filter {
    name   = "TagKeyValue"
    values = ["user:Project$${var.name}"]
  }

  notification {
    comparison_operator        = "GREATER_THAN"
    threshold                  = 80
    threshold_type             = "PERCENTAGE"
    notification_type          = "ACTUAL"
    subscriber_email_addresses = [var.alert_email]
  }

  notification {
    comparison_operator        = "GREATER_THAN"
    threshold                  = 100
    threshold_type             = "PERCENTAGE"
    notification_type          = "FORECASTED"
    subscriber_email_addresses = [var.alert_email]
  }
}
