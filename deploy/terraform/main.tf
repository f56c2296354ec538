locals {
  listen_port = 8000
  # The daemon listens on all interfaces only when a scraper outside the VM may reach it.
  listen_host = length(var.metrics_cidrs) > 0 ? "0.0.0.0" : "127.0.0.1"
  webhook_url = "https://${var.domain_name}/api/v1/webhooks/google-calendar"

  calmirror_env = merge(var.calmirror_env, {
    WEBHOOK_BASE_URL = "https://${var.domain_name}"
    LISTEN_HOST      = local.listen_host
    LISTEN_PORT      = tostring(local.listen_port)
  })
}

data "aws_partition" "current" {}
data "aws_caller_identity" "current" {}

data "aws_subnet" "selected" {
  id = var.subnet_id
}

# The newest official Debian 12 image (Debian's AWS account publishes it).
data "aws_ami" "debian" {
  count       = var.ami_id == null ? 1 : 0
  most_recent = true
  owners      = ["136693071363"]

  filter {
    name   = "name"
    values = ["debian-12-${var.architecture == "arm64" ? "arm64" : "amd64"}-*"]
  }

  filter {
    name   = "architecture"
    values = [var.architecture]
  }
}

resource "aws_security_group" "calmirror" {
  name        = var.name
  description = "calmirror: https for Google push notifications; metrics and SSH only from given CIDRs"
  vpc_id      = data.aws_subnet.selected.vpc_id
}

resource "aws_vpc_security_group_ingress_rule" "https" {
  security_group_id = aws_security_group.calmirror.id
  description       = "Google push notifications (Caddy, TLS-ALPN certificate challenge)"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_ingress_rule" "metrics" {
  for_each          = toset(var.metrics_cidrs)
  security_group_id = aws_security_group.calmirror.id
  description       = "Prometheus scrape of /metrics"
  ip_protocol       = "tcp"
  from_port         = local.listen_port
  to_port           = local.listen_port
  cidr_ipv4         = each.value
}

resource "aws_vpc_security_group_ingress_rule" "ssh" {
  for_each          = toset(var.ssh_cidrs)
  security_group_id = aws_security_group.calmirror.id
  description       = "SSH from an administrator network"
  ip_protocol       = "tcp"
  from_port         = 22
  to_port           = 22
  cidr_ipv4         = each.value
}

# Google's APIs, Let's Encrypt, PyPI, the git host and Debian's https mirror are all https;
# DNS and time sync go to the VPC resolver and link-local services, which security groups do not filter.
resource "aws_vpc_security_group_egress_rule" "https" {
  security_group_id = aws_security_group.calmirror.id
  description       = "Outbound https only"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_instance" "calmirror" {
  # checkov:skip=CKV_AWS_88: Google must reach the webhook, so the VM has a public address (the Elastic IP below).
  ami                         = var.ami_id != null ? var.ami_id : data.aws_ami.debian[0].id
  instance_type               = var.instance_type
  subnet_id                   = var.subnet_id
  vpc_security_group_ids      = [aws_security_group.calmirror.id]
  iam_instance_profile        = aws_iam_instance_profile.calmirror.name
  key_name                    = var.ssh_key_name
  associate_public_ip_address = true
  ebs_optimized               = true
  monitoring                  = true

  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
  }

  root_block_device {
    encrypted             = true
    volume_type           = "gp3"
    volume_size           = var.root_volume_size_gb
    delete_on_termination = true
  }

  # No secret in here: user data is readable by anyone allowed ec2:DescribeInstanceAttribute.
  user_data = templatefile("${path.module}/cloud-init.yaml.tftpl", {
    domain_name          = var.domain_name
    git_url              = var.calmirror_git_url
    git_ref              = var.calmirror_git_ref
    region               = var.region
    ssm_parameter_prefix = var.ssm_parameter_prefix
    calmirror_env        = local.calmirror_env
  })
  user_data_replace_on_change = true

  tags = {
    Name = var.name
  }
}

resource "aws_eip" "calmirror" {
  domain   = "vpc"
  instance = aws_instance.calmirror.id

  tags = {
    Name = var.name
  }
}
