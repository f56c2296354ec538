# Renders deploy/terraform's cloud-init template the way the module does, without any provider, so
# .ci/deploy-checks can hand the result to `cloud-init schema`.

variable "template" {
  description = "Path of deploy/terraform/cloud-init.yaml.tftpl."
  type        = string
}

output "user_data" {
  value = templatefile(var.template, {
    domain_name          = "calmirror.example.com"
    git_url              = "https://git.example.com/you/calmirror.git"
    git_ref              = "v0.1.0"
    region               = "eu-central-1"
    ssm_parameter_prefix = "/calmirror"
    calmirror_env = {
      GOOGLE_CLIENT_ID       = "000000000000-example.apps.googleusercontent.com"
      GOOGLE_ACCOUNT_1_EMAIL = "alice@example.com"
      SYNC_FLOW_1_NAME       = "Work meetings to personal"
      WEBHOOK_BASE_URL       = "https://calmirror.example.com"
      LISTEN_HOST            = "127.0.0.1"
      LISTEN_PORT            = "8000"
    }
  })
}
