output "public_ip" {
  description = "Elastic IP of the VM: point the A record of domain_name at it."
  value       = aws_eip.calmirror.public_ip
}

output "webhook_url" {
  description = "Address Google posts push notifications to (WEBHOOK_BASE_URL plus the webhook path)."
  value       = local.webhook_url
}

output "instance_id" {
  description = "EC2 instance id (for the console, SSH or a reboot)."
  value       = aws_instance.calmirror.id
}

output "ssm_parameter_prefix" {
  description = "SSM path to put the secrets under with `aws ssm put-parameter --type SecureString`."
  value       = var.ssm_parameter_prefix
}
