# ------------------------------------------------------------------------------------------------
# General
# ------------------------------------------------------------------------------------------------

variable "name" {
  description = "Prefix of every resource name (ECS cluster, ALB, ECR repositories, log group...)."
  type        = string
  default     = "loadbench"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,19}$", var.name))
    error_message = "name must be 2-20 characters of lowercase letters, digits and hyphens, starting with a letter (it prefixes ALB and target group names, which AWS limits to 32 characters)."
  }
}

variable "aws_region" {
  description = "AWS region to deploy into."
  type        = string
  default     = "us-east-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", var.aws_region))
    error_message = "aws_region must look like us-east-1 or eu-west-3."
  }
}

variable "aws_endpoint_url" {
  description = "Send every AWS API call to this URL instead of AWS, for tests against an emulator such as moto (http://127.0.0.1:PORT). Leave null for real AWS."
  type        = string
  default     = null

  validation {
    condition     = var.aws_endpoint_url == null || can(regex("^https?://", var.aws_endpoint_url))
    error_message = "aws_endpoint_url must be null or an http:// or https:// URL."
  }
}

variable "tags" {
  description = "Extra tags put on every resource, on top of Project and ManagedBy."
  type        = map(string)
  default     = {}
}

# ------------------------------------------------------------------------------------------------
# Network
# ------------------------------------------------------------------------------------------------

variable "vpc_cidr" {
  description = "CIDR block of the VPC; the two public subnets are its first two /24 (or smaller) blocks."
  type        = string
  default     = "10.42.0.0/16"

  validation {
    condition     = can(cidrhost(var.vpc_cidr, 0)) && try(tonumber(split("/", var.vpc_cidr)[1]) <= 22, false)
    error_message = "vpc_cidr must be an IPv4 CIDR block of /22 or larger, such as 10.42.0.0/16."
  }
}

variable "availability_zones" {
  description = "Two availability zones for the public subnets; empty picks the region's first two."
  type        = list(string)
  default     = []

  validation {
    condition     = length(var.availability_zones) == 0 || length(var.availability_zones) == 2
    error_message = "availability_zones must be empty or name exactly two zones."
  }
}

variable "allowed_ingress_cidrs" {
  description = "CIDR blocks allowed to reach the public load balancer (the service, and with locust_ui_public the Locust web UI behind its login). Use your own address, e.g. [\"203.0.113.7/32\"]."
  type        = list(string)

  validation {
    condition     = length(var.allowed_ingress_cidrs) > 0 && alltrue([for cidr in var.allowed_ingress_cidrs : can(cidrhost(cidr, 0))])
    error_message = "allowed_ingress_cidrs must be a non-empty list of CIDR blocks such as \"203.0.113.7/32\"."
  }

  # An opened Locust web UI (locust_ui_public) has a login, but its swarm form aims the workers at
  # any host: only a few known addresses may reach it.
  validation {
    condition     = !(var.enable_locust && var.locust_ui_public) || alltrue([for cidr in var.allowed_ingress_cidrs : !can(cidrhost(cidr, 0)) || try(tonumber(split("/", cidr)[1]) >= (strcontains(cidr, ":") ? 56 : 24), false)])
    error_message = "allowed_ingress_cidrs: with locust_ui_public the Locust web UI (its swarm form aims the workers at any host) is reachable from these blocks, so each must be an IPv4 /24 or narrower (IPv6 /56 or narrower); 0.0.0.0/0 and other wide blocks are refused. Give your own address, e.g. [\"203.0.113.7/32\"]."
  }
}

variable "certificate_arn" {
  description = "ACM certificate ARN for an HTTPS listener on port 443; with it, port 80 redirects to HTTPS. Null serves plain HTTP on port 80."
  type        = string
  default     = null

  validation {
    condition     = var.certificate_arn == null || can(regex("^arn:aws[a-z-]*:acm:", var.certificate_arn))
    error_message = "certificate_arn must be null or an ACM certificate ARN (arn:aws:acm:...)."
  }
}

# ------------------------------------------------------------------------------------------------
# Images and logs
# ------------------------------------------------------------------------------------------------

variable "image_tag" {
  description = "Tag of the images to run, pushed beforehand to both ECR repositories (tags are immutable: use a new tag per build, e.g. the git commit)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$", var.image_tag))
    error_message = "image_tag must be a valid image tag: letters, digits, '_', '.', '-', at most 128 characters."
  }
}

variable "ecr_keep_images" {
  description = "How many tagged images each ECR repository keeps; older ones expire (untagged ones after a day)."
  type        = number
  default     = 10

  validation {
    condition     = var.ecr_keep_images >= 1 && var.ecr_keep_images <= 1000 && floor(var.ecr_keep_images) == var.ecr_keep_images
    error_message = "ecr_keep_images must be a whole number from 1 to 1000."
  }
}

variable "ecr_force_delete" {
  description = "Let destroy delete the ECR repositories even when they still hold images (they can be rebuilt from source)."
  type        = bool
  default     = true
}

variable "log_retention_days" {
  description = "Days CloudWatch keeps the containers' logs."
  type        = number
  default     = 14

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of CloudWatch's values: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653."
  }
}

variable "enable_container_insights" {
  description = "Turn on ECS Container Insights (per-task CPU and memory metrics, billed by CloudWatch), which tell whether the service or the load generator saturated."
  type        = bool
  default     = true
}

# ------------------------------------------------------------------------------------------------
# The service under test
# ------------------------------------------------------------------------------------------------

variable "container_port" {
  description = "Port the service listens on inside its container (passed as PORT)."
  type        = number
  default     = 8080

  validation {
    condition     = var.container_port >= 1024 && var.container_port <= 65535 && floor(var.container_port) == var.container_port
    error_message = "container_port must be a whole number from 1024 to 65535 (the image runs as a non-root user)."
  }
}

variable "service_cpu" {
  description = "CPU units of one service task (1024 = 1 vCPU)."
  type        = number
  default     = 1024

  validation {
    condition     = contains(keys(local.fargate_memory_by_cpu), tostring(var.service_cpu))
    error_message = "service_cpu must be a Fargate CPU size: 256, 512, 1024, 2048, 4096, 8192 or 16384."
  }
}

variable "service_memory" {
  description = "Memory (MiB) of one service task; must be allowed by Fargate for service_cpu."
  type        = number
  default     = 2048

  validation {
    condition     = contains(lookup(local.fargate_memory_by_cpu, tostring(var.service_cpu), []), var.service_memory)
    error_message = "service_memory is not a Fargate memory size for service_cpu: 256 takes 512-2048, 512 takes 1024-4096, 1024 takes 2048-8192, 2048 takes 4096-16384, 4096 takes 8192-30720 (steps of 1024), 8192 takes 16384-61440 (steps of 4096), 16384 takes 32768-122880 (steps of 8192)."
  }
}

variable "service_workers" {
  description = "Uvicorn worker processes per service task (WORKERS); null gives one per vCPU with store = \"postgres\" and 1 with store = \"memory\"."
  type        = number
  default     = null

  validation {
    condition     = var.service_workers == null || try(var.service_workers >= 1 && var.service_workers <= 64 && floor(var.service_workers) == var.service_workers, false)
    error_message = "service_workers must be null or a whole number from 1 to 64."
  }

  validation {
    condition     = var.store != "memory" || var.service_workers == null || var.service_workers == 1
    error_message = "service_workers must be null or 1 with store = \"memory\": each uvicorn worker would keep its own products. Use store = \"postgres\" for more."
  }
}

variable "service_desired_count" {
  description = "Service tasks to run. With autoscaling on, this is the count at creation only: later applies leave the task count to autoscaling."
  type        = number
  default     = 2

  validation {
    condition     = var.service_desired_count >= 1 && var.service_desired_count <= 100 && floor(var.service_desired_count) == var.service_desired_count
    error_message = "service_desired_count must be a whole number from 1 to 100."
  }

  validation {
    condition     = var.store != "memory" || var.service_desired_count == 1
    error_message = "service_desired_count must be 1 with store = \"memory\": each task keeps its own products in memory, so a product created through one task would be a 404 on the others. Use store = \"postgres\" for more tasks."
  }
}

variable "service_keep_alive_seconds" {
  description = "Seconds uvicorn keeps an idle client connection open (--timeout-keep-alive). It must outlast the load balancers' idle timeout, or the ALB reuses a connection the task is closing and answers 502."
  type        = number
  default     = 75

  validation {
    condition     = var.service_keep_alive_seconds > var.alb_idle_timeout && var.service_keep_alive_seconds <= 4000 && floor(var.service_keep_alive_seconds) == var.service_keep_alive_seconds
    error_message = "service_keep_alive_seconds must be a whole number of seconds greater than alb_idle_timeout (and at most 4000), or the load balancer answers sporadic 502s."
  }
}

variable "alb_idle_timeout" {
  description = "Seconds the load balancers keep an idle connection open."
  type        = number
  default     = 60

  validation {
    condition     = var.alb_idle_timeout >= 1 && var.alb_idle_timeout <= 3600 && floor(var.alb_idle_timeout) == var.alb_idle_timeout
    error_message = "alb_idle_timeout must be a whole number from 1 to 3600."
  }
}

variable "wait_for_steady_state" {
  description = "Let apply wait until the ECS services are stable (tasks healthy behind the load balancer), so that a failed rollout fails the apply instead of passing unnoticed. Off only for the moto test run, whose tasks never start."
  type        = bool
  default     = true
}

variable "task_cpu_architecture" {
  description = "CPU architecture of every task (X86_64 or ARM64); `make deploy` builds the images for it (output image_platform)."
  type        = string
  default     = "X86_64"

  validation {
    condition     = contains(["X86_64", "ARM64"], var.task_cpu_architecture)
    error_message = "task_cpu_architecture must be X86_64 or ARM64."
  }
}

variable "service_log_level" {
  description = "Log level of the service (LOG_LEVEL)."
  type        = string
  default     = "warning"

  validation {
    condition     = contains(["critical", "error", "warning", "info", "debug", "trace"], var.service_log_level)
    error_message = "service_log_level must be one of critical, error, warning, info, debug, trace."
  }
}

variable "service_access_log" {
  description = "Write one log line per request (ACCESS_LOG). Off by default: under load it costs throughput and CloudWatch ingestion."
  type        = bool
  default     = false
}

variable "service_store_capacity" {
  description = "Most products the service stores (STORE_CAPACITY): per task with store = \"memory\" (about 1 KB of task memory each), in the whole database with store = \"postgres\". null sets nothing: the service's default, which with postgres is no cap (the limit is the disk, grown by RDS storage autoscaling up to db_max_allocated_storage)."
  type        = number
  default     = null

  validation {
    condition     = var.service_store_capacity == null || try(var.service_store_capacity >= 1 && floor(var.service_store_capacity) == var.service_store_capacity, false)
    error_message = "service_store_capacity must be null or a whole number of at least 1."
  }
}

# ------------------------------------------------------------------------------------------------
# Storage of the service: in memory (one task) or PostgreSQL on RDS, with an optional Redis cache
# ------------------------------------------------------------------------------------------------

variable "store" {
  description = "Where the service keeps its products (STORE): \"memory\" (one task, one worker, lost on restart) or \"postgres\" (an RDS PostgreSQL instance shared by every task and worker)."
  type        = string
  default     = "postgres"

  validation {
    condition     = contains(["memory", "postgres"], var.store)
    error_message = "store must be \"memory\" or \"postgres\"."
  }
}

variable "db_instance_class" {
  description = "RDS instance class of the PostgreSQL database (store = \"postgres\"). Burstable classes (db.t4g.*) run on CPU credits: for long sweeps use a fixed-performance class such as db.m7g.large."
  type        = string
  default     = "db.t4g.small"

  validation {
    condition     = can(regex("^db\\.[a-z0-9]+\\.[a-z0-9]+$", var.db_instance_class))
    error_message = "db_instance_class must be an RDS instance class such as db.t4g.small or db.m7g.large."
  }
}

variable "db_engine_version" {
  description = "PostgreSQL major (or major.minor) version of the RDS instance."
  type        = string
  default     = "16"

  validation {
    condition     = can(regex("^1[4-9](\\.[0-9]+)?$", var.db_engine_version))
    error_message = "db_engine_version must be a PostgreSQL version from 14 on, such as \"16\" or \"16.4\"."
  }
}

variable "db_allocated_storage" {
  description = "Storage (GiB, gp3, encrypted) of the RDS instance."
  type        = number
  default     = 20

  validation {
    condition     = var.db_allocated_storage >= 20 && var.db_allocated_storage <= 1000 && floor(var.db_allocated_storage) == var.db_allocated_storage
    error_message = "db_allocated_storage must be a whole number of GiB from 20 to 1000."
  }
}

variable "db_pool_size" {
  description = "Database connections per uvicorn worker (DB_POOL_SIZE). Tasks x workers x this must stay below the instance's max_connections."
  type        = number
  default     = 10

  validation {
    condition     = var.db_pool_size >= 1 && var.db_pool_size <= 200 && floor(var.db_pool_size) == var.db_pool_size
    error_message = "db_pool_size must be a whole number from 1 to 200."
  }
}

variable "enable_cache" {
  description = "Put an ElastiCache Redis cache (CACHE_URL, TLS) in front of the database; needs store = \"postgres\"."
  type        = bool
  default     = false

  validation {
    condition     = !var.enable_cache || var.store == "postgres"
    error_message = "enable_cache needs store = \"postgres\": the cache sits in front of the database."
  }
}

variable "cache_node_type" {
  description = "ElastiCache node type of the Redis cache (enable_cache)."
  type        = string
  default     = "cache.t4g.micro"

  validation {
    condition     = can(regex("^cache\\.[a-z0-9]+\\.[a-z0-9]+$", var.cache_node_type))
    error_message = "cache_node_type must be an ElastiCache node type such as cache.t4g.micro."
  }
}

# ------------------------------------------------------------------------------------------------
# Observability: dashboard, alarms, optional load balancer access logs
# ------------------------------------------------------------------------------------------------

variable "alarm_actions" {
  description = "ARNs (e.g. SNS topics) notified when an alarm fires or clears; empty leaves the alarms visible in the console only."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for arn in var.alarm_actions : can(regex("^arn:aws[a-z-]*:", arn))])
    error_message = "alarm_actions must be a list of ARNs (arn:aws:sns:...)."
  }
}

variable "alarm_5xx_percent" {
  description = "Alarm when more than this percentage of the service's requests answer 5xx (target or load balancer) over a minute."
  type        = number
  default     = 1

  validation {
    condition     = var.alarm_5xx_percent > 0 && var.alarm_5xx_percent <= 100
    error_message = "alarm_5xx_percent must be above 0 and at most 100."
  }
}

variable "enable_alb_access_logs" {
  description = "Write the load balancers' access logs to an S3 bucket of this stack. One line per request: under load they bill for S3 storage."
  type        = bool
  default     = false
}

variable "access_logs_retention_days" {
  description = "Days the access-log bucket keeps a log object (enable_alb_access_logs)."
  type        = number
  default     = 7

  validation {
    condition     = var.access_logs_retention_days >= 1 && var.access_logs_retention_days <= 3650 && floor(var.access_logs_retention_days) == var.access_logs_retention_days
    error_message = "access_logs_retention_days must be a whole number from 1 to 3650."
  }
}

# ------------------------------------------------------------------------------------------------
# Autoscaling (moves the system under test: turn it off for sweeps that need a fixed task count)
# ------------------------------------------------------------------------------------------------

variable "enable_autoscaling" {
  description = "Create target-tracking autoscaling of the service on CPU and on ALB requests per target. Off by default: autoscaling changes the size of the system under test in the middle of a sweep; measure N tasks with service_desired_count = N instead. (Also off for the moto test run, which lacks the Application Auto Scaling tagging API.)"
  type        = bool
  default     = false

  validation {
    condition     = var.store != "memory" || !var.enable_autoscaling
    error_message = "enable_autoscaling must be false with store = \"memory\": every task would keep its own products. Use store = \"postgres\" to autoscale."
  }
}

variable "autoscaling_min_capacity" {
  description = "Fewest service tasks autoscaling keeps."
  type        = number
  default     = 1

  validation {
    condition     = var.autoscaling_min_capacity >= 1 && floor(var.autoscaling_min_capacity) == var.autoscaling_min_capacity
    error_message = "autoscaling_min_capacity must be a whole number of at least 1."
  }
}

variable "autoscaling_max_capacity" {
  description = "Most service tasks autoscaling starts."
  type        = number
  default     = 6

  validation {
    condition     = var.autoscaling_max_capacity >= var.autoscaling_min_capacity && var.autoscaling_max_capacity <= 100 && floor(var.autoscaling_max_capacity) == var.autoscaling_max_capacity
    error_message = "autoscaling_max_capacity must be a whole number from autoscaling_min_capacity to 100."
  }
}

variable "autoscaling_cpu_target" {
  description = "Average service CPU utilisation (percent) that autoscaling aims for."
  type        = number
  default     = 60

  validation {
    condition     = var.autoscaling_cpu_target >= 10 && var.autoscaling_cpu_target <= 90
    error_message = "autoscaling_cpu_target must be between 10 and 90 percent."
  }
}

variable "autoscaling_requests_per_target" {
  description = "ALB requests per minute per service task that autoscaling aims for."
  type        = number
  default     = 60000

  validation {
    condition     = var.autoscaling_requests_per_target >= 1
    error_message = "autoscaling_requests_per_target must be at least 1."
  }
}

# ------------------------------------------------------------------------------------------------
# Locust on ECS: one master (web UI behind the ALB) and workers that find it through Cloud Map
# ------------------------------------------------------------------------------------------------

variable "enable_locust" {
  description = "Run a Locust master and workers on ECS, so that load generation can outgrow one machine."
  type        = bool
  default     = false
}

variable "locust_workers" {
  description = "Locust worker tasks (one Locust process each)."
  type        = number
  default     = 2

  validation {
    condition     = var.locust_workers >= 1 && var.locust_workers <= 200 && floor(var.locust_workers) == var.locust_workers
    error_message = "locust_workers must be a whole number from 1 to 200."
  }
}

variable "locust_cpu" {
  description = "CPU units of each Locust task. One Locust process uses at most one core, so 1024 fits a worker."
  type        = number
  default     = 1024

  validation {
    condition     = contains(keys(local.fargate_memory_by_cpu), tostring(var.locust_cpu))
    error_message = "locust_cpu must be a Fargate CPU size: 256, 512, 1024, 2048, 4096, 8192 or 16384."
  }
}

variable "locust_memory" {
  description = "Memory (MiB) of each Locust task; must be allowed by Fargate for locust_cpu."
  type        = number
  default     = 2048

  validation {
    condition     = contains(lookup(local.fargate_memory_by_cpu, tostring(var.locust_cpu), []), var.locust_memory)
    error_message = "locust_memory is not a Fargate memory size for locust_cpu: 256 takes 512-2048, 512 takes 1024-4096, 1024 takes 2048-8192, 2048 takes 4096-16384, 4096 takes 8192-30720 (steps of 1024), 8192 takes 16384-61440 (steps of 4096), 16384 takes 32768-122880 (steps of 8192)."
  }
}

variable "locust_file" {
  description = "Locustfile path inside the load-generator image."
  type        = string
  default     = "scenarios/locustfile.py"

  validation {
    condition     = endswith(var.locust_file, ".py")
    error_message = "locust_file must be a path to a .py file."
  }
}

# ------------------------------------------------------------------------------------------------
# Headless sweeps inside AWS (`make remote-sweep`): the results bucket and the sweep task
# ------------------------------------------------------------------------------------------------

variable "results_retention_days" {
  description = "Days the results bucket keeps a sweep's files (enable_locust); a replaced or deleted version goes a week after that. Fetch what you keep with `python -m scenarios.remote_results fetch`."
  type        = number
  default     = 30

  validation {
    condition     = var.results_retention_days >= 1 && var.results_retention_days <= 3650 && floor(var.results_retention_days) == var.results_retention_days
    error_message = "results_retention_days must be a whole number from 1 to 3650."
  }
}

variable "results_force_destroy" {
  description = "Let destroy delete the results bucket while it still holds sweeps (fetch them first)."
  type        = bool
  default     = true
}

variable "sweep_cpu" {
  description = "CPU units of the task that runs `python -m scenarios.sweep` inside the VPC (it only drives the master)."
  type        = number
  default     = 512

  validation {
    condition     = contains(keys(local.fargate_memory_by_cpu), tostring(var.sweep_cpu))
    error_message = "sweep_cpu must be a Fargate CPU size: 256, 512, 1024, 2048, 4096, 8192 or 16384."
  }
}

variable "sweep_memory" {
  description = "Memory (MiB) of the sweep task; must be allowed by Fargate for sweep_cpu."
  type        = number
  default     = 1024

  validation {
    condition     = contains(lookup(local.fargate_memory_by_cpu, tostring(var.sweep_cpu), []), var.sweep_memory)
    error_message = "sweep_memory is not a Fargate memory size for sweep_cpu: 256 takes 512-2048, 512 takes 1024-4096, 1024 takes 2048-8192 (steps of 1024)."
  }
}

# ------------------------------------------------------------------------------------------------
# Cost guardrails, load generators per sweep, the service's metrics, access to the Locust UI
# ------------------------------------------------------------------------------------------------

variable "locust_always_on" {
  description = "Keep the Locust master and workers running between sweeps. false (default): both ECS services stay at 0 tasks and `make remote-sweep` starts them for one sweep, sized from it, and the sweep task stops them when it ends, fails or reaches sweep_max_lifetime_minutes."
  type        = bool
  default     = false
}

variable "locust_spot_workers" {
  description = "Run the Locust workers on Fargate Spot (about 70% cheaper; AWS may stop a worker with two minutes' notice, which fails the point it was in). The master and the sweep task stay on demand."
  type        = bool
  default     = false
}

variable "sweep_max_lifetime_minutes" {
  description = "The sweep task stops itself (and the Locust tasks) after this many minutes, whatever the sweep is doing."
  type        = number
  default     = 240

  validation {
    condition     = var.sweep_max_lifetime_minutes >= 5 && var.sweep_max_lifetime_minutes <= 1440
    error_message = "sweep_max_lifetime_minutes must be from 5 to 1440."
  }
}

variable "alert_email" {
  description = "E-mail address subscribed to the alarms' SNS topic (and to the budget alarm); null: the topic has no subscriber. AWS sends a confirmation mail first."
  type        = string
  default     = null

  validation {
    condition     = var.alert_email == null || can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", var.alert_email))
    error_message = "alert_email must be null or an e-mail address."
  }
}

variable "budget_monthly_usd" {
  description = "Create an AWS Budgets cost budget of this many US$ a month for resources tagged Project = name, which mails alert_email at 80% of actual and 100% of forecast spend; null: no budget."
  type        = number
  default     = null

  validation {
    condition     = var.budget_monthly_usd == null || try(var.budget_monthly_usd > 0, false)
    error_message = "budget_monthly_usd must be null or a positive number."
  }

  validation {
    condition     = var.budget_monthly_usd == null || var.alert_email != null
    error_message = "budget_monthly_usd needs alert_email: the budget mails that address."
  }
}

variable "single_az" {
  description = "Put the system under test (service tasks, database, cache) and the load generators (Locust tasks, sweep task) in the first availability zone only: no cross-zone hop between them. The load balancers and the database and cache subnet groups still span two zones, as AWS requires; an ALB always balances across zones, so a request may still pass through its node in the second zone."
  type        = bool
  default     = false
}

variable "db_max_allocated_storage" {
  description = "RDS storage autoscaling ceiling in GiB (above db_allocated_storage); the database grows its disk up to this before writes fail."
  type        = number
  default     = 200

  validation {
    condition     = var.db_max_allocated_storage >= var.db_allocated_storage && var.db_max_allocated_storage <= 65536
    error_message = "db_max_allocated_storage must be at least db_allocated_storage and at most 65536."
  }
}

variable "alarm_db_free_storage_gib" {
  description = "Alarm when the database's free storage falls below this many GiB."
  type        = number
  default     = 2
}

variable "enable_service_metrics" {
  description = "Run an ADOT collector sidecar next to each service task that scrapes the service's Prometheus /metrics every 10 s into CloudWatch (namespace <name>/service, embedded metric format): latency per route on the dashboard."
  type        = bool
  default     = true
}

variable "adot_image" {
  description = "Image of the ADOT collector sidecar (pulled through the tasks' public IPs)."
  type        = string
  default     = "public.ecr.aws/aws-observability/aws-otel-collector:v0.43.3"
}

variable "service_admin_enabled" {
  description = "Give the service an admin token (in Secrets Manager) so that the remote sweep can reset and seed the store through the service's admin route. The route is reachable only through the internal load balancer, that is from the Locust and sweep tasks; the public load balancer answers 403 to it."
  type        = bool
  default     = true
}

variable "locust_ui_public" {
  description = "Open the Locust web UI on the public load balancer (port 8089) to allowed_ingress_cidrs. Needs certificate_arn (TLS) and puts a Cognito login in front (users created by you in the user pool). false (default): the UI is private, reached with SSM port forwarding (make locust-ui)."
  type        = bool
  default     = false

  validation {
    condition     = !var.locust_ui_public || var.certificate_arn != null
    error_message = "locust_ui_public = true needs certificate_arn: the UI is served only over TLS, behind a login."
  }
}

variable "service_liveness_path" {
  description = "The service's liveness route: the container health check (ECS replaces a task that fails it). It must not fail because the service is saturated."
  type        = string
  default     = "/health/live"
}

variable "service_readiness_path" {
  description = "The service's readiness route: the load balancers' health check (they stop routing to a task that fails it). It must not fail because the service is saturated."
  type        = string
  default     = "/health/ready"
}

variable "sweep_reset_seed" {
  description = "Before each remote sweep, the sweep task resets the store to this many seed products through the service's admin route (POST /admin/reset, needs service_admin_enabled); -1 leaves the store as it is."
  type        = number
  default     = 1000

  validation {
    condition     = var.sweep_reset_seed >= -1 && floor(var.sweep_reset_seed) == var.sweep_reset_seed
    error_message = "sweep_reset_seed must be -1 (no reset) or a whole number of products."
  }
}
