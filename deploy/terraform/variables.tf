# No variable holds a secret: secrets live in SSM Parameter Store (SecureString) under
# var.ssm_parameter_prefix, put there with `aws ssm put-parameter` (see docs/operations.md).

variable "region" {
  description = "AWS region of the VM and of its SSM parameters."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.region))
    error_message = "region must be an AWS region name such as eu-central-1."
  }
}

variable "name" {
  description = "Name of the VM and prefix of every resource name."
  type        = string
  default     = "calmirror"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}$", var.name))
    error_message = "name must be 2-31 lowercase letters, digits or dashes, starting with a letter."
  }
}

variable "domain_name" {
  description = "Public DNS name of the VM (an A record pointing at the public_ip output); Caddy gets its certificate for it."
  type        = string

  validation {
    condition     = can(regex("^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,}$", var.domain_name))
    error_message = "domain_name must be a lowercase fully qualified domain name such as calmirror.example.com."
  }
}

variable "subnet_id" {
  description = "Public subnet (with a route to an internet gateway) the VM is placed in."
  type        = string

  validation {
    condition     = can(regex("^subnet-[0-9a-f]{8,17}$", var.subnet_id))
    error_message = "subnet_id must look like subnet-0123456789abcdef0."
  }
}

variable "instance_type" {
  description = "EC2 instance type; its architecture must match var.architecture."
  type        = string
  default     = "t4g.micro"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]*\\.[a-z0-9]+$", var.instance_type))
    error_message = "instance_type must look like t4g.micro."
  }
}

variable "architecture" {
  description = "CPU architecture of the Debian 12 image: arm64 (Graviton, e.g. t4g) or x86_64 (e.g. t3)."
  type        = string
  default     = "arm64"

  validation {
    condition     = contains(["arm64", "x86_64"], var.architecture)
    error_message = "architecture must be arm64 or x86_64."
  }
}

variable "ami_id" {
  description = "Image to boot instead of the newest official Debian 12 image (null: look it up)."
  type        = string
  default     = null

  validation {
    condition     = var.ami_id == null || can(regex("^ami-[0-9a-f]{8,17}$", var.ami_id))
    error_message = "ami_id must look like ami-0123456789abcdef0, or be null."
  }
}

variable "root_volume_size_gb" {
  description = "Size of the encrypted root volume in GiB."
  type        = number
  default     = 16

  validation {
    condition     = var.root_volume_size_gb >= 8 && var.root_volume_size_gb <= 200
    error_message = "root_volume_size_gb must be between 8 and 200."
  }
}

variable "ssh_cidrs" {
  description = "CIDRs allowed to reach SSH (22/tcp); empty (the default) opens no SSH at all."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for cidr in var.ssh_cidrs : can(cidrhost(cidr, 0)) && !endswith(cidr, "/0")])
    error_message = "ssh_cidrs must be CIDR blocks such as 203.0.113.7/32, and never a /0."
  }
}

variable "ssh_key_name" {
  description = "Name of an EC2 key pair for SSH (null: none); only useful with ssh_cidrs."
  type        = string
  default     = null
}

variable "metrics_cidrs" {
  description = "CIDRs of the Prometheus servers allowed to scrape port 8000 (/metrics, /health); empty: none."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for cidr in var.metrics_cidrs : can(cidrhost(cidr, 0)) && !endswith(cidr, "/0")])
    error_message = "metrics_cidrs must be CIDR blocks such as 10.0.0.0/16, and never a /0."
  }
}

variable "ssm_parameter_prefix" {
  description = "SSM path holding the secrets, one SecureString per variable (e.g. /calmirror/WEBHOOK_API_KEY); the VM can read only this path."
  type        = string
  default     = "/calmirror"

  validation {
    condition     = can(regex("^(/[A-Za-z0-9_.-]+)+$", var.ssm_parameter_prefix))
    error_message = "ssm_parameter_prefix must be an absolute SSM path such as /calmirror, without a trailing slash."
  }
}

variable "ssm_kms_key_arn" {
  description = "ARN of the customer managed KMS key encrypting the SecureStrings (null: the AWS managed key aws/ssm)."
  type        = string
  default     = null

  validation {
    condition     = var.ssm_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:", var.ssm_kms_key_arn))
    error_message = "ssm_kms_key_arn must be a KMS key ARN, or null."
  }
}

variable "calmirror_git_url" {
  description = "https URL of the calmirror git repository the VM installs from."
  type        = string

  validation {
    condition     = can(regex("^https://[^\\s@]+$", var.calmirror_git_url))
    error_message = "calmirror_git_url must be an https:// URL without credentials in it."
  }
}

variable "calmirror_git_ref" {
  description = "Tag, branch or commit of calmirror_git_url to install; changing it replaces the VM."
  type        = string
  default     = "main"

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9._/-]*$", var.calmirror_git_ref))
    error_message = "calmirror_git_ref must be a tag, branch or commit name."
  }
}

variable "calmirror_env" {
  description = "Non-secret settings for /etc/calmirror/calmirror.env (accounts' e-mails, client id, flows, schedule); see .env.example."
  type        = map(string)
  default     = {}

  validation {
    condition = alltrue([
      for key in keys(var.calmirror_env) :
      can(regex("^[A-Z][A-Z0-9_]*$", key)) &&
      !can(regex("(SECRET|TOKEN|API_KEY|PASSWORD)", key))
    ])
    error_message = "calmirror_env keys must be UPPER_CASE variable names, and secrets (client secrets, refresh tokens, WEBHOOK_API_KEY) go in SSM, never here."
  }

  validation {
    condition     = alltrue([for value in values(var.calmirror_env) : !can(regex("[\\n\\r]| #|\\$\\{", value))])
    error_message = "calmirror_env values must be one line, without a space-hash (an inline comment) or a dollar-brace reference: systemd keeps both literally."
  }
}
