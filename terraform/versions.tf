terraform {
  # 1.9 lets a variable's validation refer to other variables (Fargate CPU/memory pairs).
  required_version = ">= 1.9"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.60, < 6.0"
    }
  }
}

# When aws_endpoint_url is set (the tests point it at a moto server on loopback), every service the
# stack uses is sent there and the provider skips the checks that only real AWS can answer.
provider "aws" {
  region = var.aws_region

  skip_credentials_validation = local.emulated
  skip_requesting_account_id  = local.emulated
  skip_metadata_api_check     = local.emulated
  s3_use_path_style           = local.emulated # bucket names as paths: no per-bucket DNS on loopback

  dynamic "endpoints" {
    for_each = local.emulated ? [var.aws_endpoint_url] : []
    content {
      applicationautoscaling = endpoints.value
      budgets                = endpoints.value
      cloudwatch             = endpoints.value
      cognitoidp             = endpoints.value
      ec2                    = endpoints.value
      ecr                    = endpoints.value
      ecs                    = endpoints.value
      elasticache            = endpoints.value
      elbv2                  = endpoints.value
      iam                    = endpoints.value
      logs                   = endpoints.value
      rds                    = endpoints.value
      s3                     = endpoints.value
      secretsmanager         = endpoints.value
      servicediscovery       = endpoints.value
      sns                    = endpoints.value
      sts                    = endpoints.value
    }
  }

  default_tags {
    tags = merge({ Project = var.name, ManagedBy = "terraform" }, var.tags)
  }
}
