# ------------------------------------------------------------------------------------------------
# Results bucket (enable_locust): a sweep run as an ECS task (`make remote-sweep`) uploads its
# results directory under sweeps/<sweep id>/; `python -m scenarios.remote_results fetch` brings it
# back into results/. Private, encrypted, versioned, TLS only, and every object expires after
# results_retention_days.
# ------------------------------------------------------------------------------------------------

locals {
  results_prefix = "sweeps"
}

resource "aws_s3_bucket" "results" {
  #checkov:skip=CKV_AWS_18:Server access logs of a bucket written by one task role and read by its owner would only log our own uploads and fetches.
  #checkov:skip=CKV_AWS_144:Cross-region replication would double storage for benchmark results that can be re-measured and are fetched into results/ anyway.
  #checkov:skip=CKV2_AWS_62:Nothing consumes events of this bucket; the sweep task logs its upload and the fetch command lists the sweeps.
  count = var.enable_locust ? 1 : 0

  bucket_prefix = "${var.name}-results-"
  force_destroy = var.results_force_destroy
}

resource "aws_s3_bucket_public_access_block" "results" {
  count = var.enable_locust ? 1 : 0

  bucket                  = aws_s3_bucket.results[0].id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "results" {
  count = var.enable_locust ? 1 : 0

  bucket = aws_s3_bucket.results[0].id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_versioning" "results" {
  count = var.enable_locust ? 1 : 0

  bucket = aws_s3_bucket.results[0].id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "results" {
  count = var.enable_locust ? 1 : 0

  bucket = aws_s3_bucket.results[0].id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "aws:kms" # the AWS-managed key of S3: no key to pay for or to grant
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "results" {
  count = var.enable_locust ? 1 : 0

  bucket = aws_s3_bucket.results[0].id

  rule {
    id     = "expire-sweeps"
    status = "Enabled"
    filter {}

    expiration {
      days = var.results_retention_days
    }
    noncurrent_version_expiration {
      noncurrent_days = 7
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }

  depends_on = [aws_s3_bucket_versioning.results]
}

data "aws_iam_policy_document" "results_bucket" {
  count = var.enable_locust ? 1 : 0

  statement {
    sid     = "TlsOnly"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      aws_s3_bucket.results[0].arn,
      "${aws_s3_bucket.results[0].arn}/*",
    ]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "results" {
  count = var.enable_locust ? 1 : 0

  bucket = aws_s3_bucket.results[0].id
  policy = data.aws_iam_policy_document.results_bucket[0].json

  depends_on = [aws_s3_bucket_public_access_block.results]
}

# ------------------------------------------------------------------------------------------------
# Load balancer access logs (enable_alb_access_logs): one line per request of both load balancers.
# ALB log delivery supports only SSE-S3 encryption, hence no KMS key here.
# ------------------------------------------------------------------------------------------------

# Who delivers the access logs: in the regions that existed before August 2022, the regional
# Elastic Load Balancing account (AWS's published list, below); in newer regions, the log-delivery
# service principal. No data source: aws_elb_service_account fails in regions it does not know.
locals {
  elb_log_accounts = {
    us-east-1      = "127311923021", us-east-2 = "033677994240", us-west-1 = "027434742980",
    us-west-2      = "797873946194", af-south-1 = "098369216593", ap-east-1 = "754344448648",
    ap-southeast-3 = "589379963580", ap-south-1 = "718504428378", ap-northeast-3 = "383597477331",
    ap-northeast-2 = "600734575887", ap-southeast-1 = "114774131450", ap-southeast-2 = "783225319266",
    ap-northeast-1 = "582318560864", ca-central-1 = "985666609251", eu-central-1 = "054676820928",
    eu-west-1      = "156460612806", eu-west-2 = "652711504416", eu-south-1 = "635631232127",
    eu-west-3      = "009996457667", eu-north-1 = "897822967062", me-south-1 = "076674570225",
    sa-east-1      = "507241528517", us-gov-west-1 = "048591011584", us-gov-east-1 = "190560391635",
  }
  elb_log_account = lookup(local.elb_log_accounts, var.aws_region, null)
}

resource "aws_s3_bucket" "access_logs" {
  #checkov:skip=CKV_AWS_18:This bucket holds access logs itself; logging it would log the log delivery.
  #checkov:skip=CKV_AWS_144:Cross-region replication would double storage for throwaway benchmark logs.
  #checkov:skip=CKV2_AWS_62:Nothing consumes events of this bucket; the logs are read on demand.
  #checkov:skip=CKV_AWS_145:ALB access log delivery supports only SSE-S3 (AES256), not KMS keys.
  count = var.enable_alb_access_logs ? 1 : 0

  bucket_prefix = "${var.name}-alb-logs-"
  force_destroy = true
}

resource "aws_s3_bucket_public_access_block" "access_logs" {
  count = var.enable_alb_access_logs ? 1 : 0

  bucket                  = aws_s3_bucket.access_logs[0].id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "access_logs" {
  count = var.enable_alb_access_logs ? 1 : 0

  bucket = aws_s3_bucket.access_logs[0].id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "access_logs" {
  count = var.enable_alb_access_logs ? 1 : 0

  bucket = aws_s3_bucket.access_logs[0].id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "access_logs" {
  count = var.enable_alb_access_logs ? 1 : 0

  bucket = aws_s3_bucket.access_logs[0].id

  rule {
    id     = "expire-logs"
    status = "Enabled"
    filter {}

    expiration {
      days = var.access_logs_retention_days
    }
    noncurrent_version_expiration {
      noncurrent_days = 1
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }

  depends_on = [aws_s3_bucket_versioning.access_logs]
}

data "aws_iam_policy_document" "access_logs" {
  count = var.enable_alb_access_logs ? 1 : 0

  statement {
    sid       = "ElbLogDelivery"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.access_logs[0].arn}/*"]
    dynamic "principals" {
      for_each = local.elb_log_account == null ? [] : [local.elb_log_account]
      content {
        type        = "AWS"
        identifiers = ["arn:${data.aws_partition.current.partition}:iam::${principals.value}:root"]
      }
    }
    principals {
      type        = "Service"
      identifiers = ["logdelivery.elasticloadbalancing.amazonaws.com"]
    }
  }

  statement {
    sid     = "TlsOnly"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      aws_s3_bucket.access_logs[0].arn,
      "${aws_s3_bucket.access_logs[0].arn}/*",
    ]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "access_logs" {
  count = var.enable_alb_access_logs ? 1 : 0

  bucket = aws_s3_bucket.access_logs[0].id
  policy = data.aws_iam_policy_document.access_logs[0].json

  depends_on = [aws_s3_bucket_public_access_block.access_logs]
}

data "aws_partition" "current" {}
