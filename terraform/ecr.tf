# ------------------------------------------------------------------------------------------------
# Two repositories built from the one Dockerfile: the service target and the load-generator target.
# ------------------------------------------------------------------------------------------------

locals {
  ecr_repositories = {
    service = "${var.name}-service"
    loadgen = "${var.name}-loadgen"
  }
}

resource "aws_ecr_repository" "this" {
  for_each = local.ecr_repositories

  name                 = each.value
  image_tag_mutability = "IMMUTABLE"
  force_delete         = var.ecr_force_delete

  image_scanning_configuration {
    scan_on_push = true
  }

  encryption_configuration {
    encryption_type = "KMS" # the AWS-managed key of ECR
  }
}

resource "aws_ecr_lifecycle_policy" "this" {
  for_each = aws_ecr_repository.this

  repository = each.value.name
  policy = jsonencode({
    rules = [
      {
        rulePriority = 1
        description  = "Drop untagged images after a day"
        selection = {
          tagStatus   = "untagged"
          countType   = "sinceImagePushed"
          countUnit   = "days"
          countNumber = 1
        }
        action = { type = "expire" }
      },
      {
        rulePriority = 2
        description  = "Keep the newest ${var.ecr_keep_images} tagged images"
        selection = {
          tagStatus   = "any"
          countType   = "imageCountMoreThan"
          countNumber = var.ecr_keep_images
        }
        action = { type = "expire" }
      },
    ]
  })
}

# What `make deploy` builds, kept in the state by its first, targeted apply
# (-target=aws_ecr_repository.this -target=terraform_data.build): a targeted apply writes only
# the outputs that depend on its targets, so the build outputs read from this resource, not from
# variables alone (whose outputs a targeted apply leaves unwritten).
resource "terraform_data" "build" {
  input = {
    platform     = local.image_platform
    region       = var.aws_region
    repositories = { for key, repository in aws_ecr_repository.this : key => repository.repository_url }
  }
}
