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

data "aws_elb_service_account" "this" {}

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
    principals {
      type        = "AWS"
      identifiers = [data.aws_elb_service_account.this.arn]
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
