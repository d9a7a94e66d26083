"""The ViT image encoder's class-token path (ALBEF's momentum teacher reads it)."""
import torch

from mmgrounding.models.backbones import VisionTransformer


def test_class_token_path_equals_the_full_pass_row():
    torch.manual_seed(0)
    vit = VisionTransformer(img_size=32, patch_size=8, embed_dim=48, depth=3, num_heads=4).eval()
    # a random class token and qkv bias, so a wrong slice of the projections would show
    with torch.no_grad():
        vit.cls_token.normal_()
        for block in vit.blocks:
            block.attn.qkv.bias.normal_()
    images = torch.randn(2, 3, 32, 40)  # a 4 x 5 grid: the position embedding resized
    with torch.no_grad():
        full = vit(images)
        cls = vit.forward_class_token(images)
    assert full.shape == (2, 1 + 4 * 5, 48) and cls.shape == (2, 48)
    torch.testing.assert_close(cls, full[:, 0], rtol=1e-5, atol=1e-5)
    # the other tokens do influence the class token (it is not a per-token shortcut)
    with torch.no_grad():
        shifted = images.clone()
        shifted[..., 16:] += 1
        assert not torch.allclose(vit.forward_class_token(shifted), cls, atol=1e-3)


def test_class_token_path_of_a_depth_zero_encoder_is_the_embedded_token():
    vit = VisionTransformer(img_size=16, patch_size=8, embed_dim=8, depth=0, num_heads=2)
    images = torch.randn(1, 3, 16, 16)
    torch.testing.assert_close(vit.forward_class_token(images), vit(images)[:, 0])
