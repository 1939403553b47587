"""Dataset generators and converters (data-tools side, not the runtime
package ``projects.cico``)."""
